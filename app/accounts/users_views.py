"""The Users pages of a partner's admin and the vendor's admin: the list, an invitation, one user
(edit, deactivate, reactivate, invite again). The same services as /api/v1/users."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app import access
from app.accounts import administration
from app.accounts.invitations import ROLE_ORDER, roles_for
from app.accounts.models import Role
from app.clock import now
from app.errors import Conflict, InvalidInput, RuleViolation
from app.pagination import MAX_LIMIT

blp = Blueprint("users_web", __name__, template_folder="templates")
PAGE_SIZE = 50
STATUSES = {"": None, "active": True, "deactivated": False}


def _label(role: Role) -> str:
    return role.value.replace("_", " ")


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search: it changes nothing

    q = StringField("Name or e-mail", validators=[Optional(), Length(max=200)])
    # No Optional() on the selects: it would let whitespace past the choices.
    status = SelectField("Status", choices=[SelectChoice("", "Any"), SelectChoice("active", "Active"),
                                                   SelectChoice("deactivated", "Deactivated")],
                         default="")
    role = SelectField("Role", default="")
    # Kept as text, not coerced to int: "Any" is the empty string, which no int coercion accepts.
    organisation = SelectField("Organisation", default="")
    cursor = HiddenField(validators=[Optional(), Length(max=200)])


class InviteForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    organisation = SelectField("Organisation", coerce=int)
    role = SelectField("Role")


class UserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role")


def _organisations_and_roles() -> tuple[list[SelectChoice], list[SelectChoice]]:
    """The organisations whose users the caller may see and invite, and the roles their users can hold."""
    organisations = access.organisations_for_new_users(current_user)
    held = {role for organisation in organisations for role in roles_for(organisation)}
    return ([SelectChoice(str(organisation.id), f"{organisation.name} ({organisation.kind.value})")
             for organisation in organisations],
            [SelectChoice(role.value, _label(role)) for role in ROLE_ORDER if role in held])


def _filter_form(formdata) -> UserFilterForm:
    """Any other value than those offered is refused as not a choice, so a guessed id of another
    tenant's organisation never reaches the query."""
    form = UserFilterForm(formdata=formdata)
    organisations, roles = _organisations_and_roles()
    form.organisation.choices = [SelectChoice("", "Any"), *organisations]
    form.role.choices = [SelectChoice("", "Any"), *roles]
    return form


def _invite_form(formdata=None) -> InviteForm:
    form = InviteForm() if formdata is None else InviteForm(formdata=formdata)
    form.organisation.choices, form.role.choices = _organisations_and_roles()
    return form


def _put_on_fields(form: FlaskForm, error, renames: dict[str, str]) -> None:
    named = False
    for name, messages in (error.details.get("fields") or {}).items():
        field = getattr(form, renames.get(name, name), None)
        if field is not None:
            field.errors = [*field.errors, *messages]
            named = True
    if not named:
        form.form_errors.append(error.message)


@blp.get("/users")
@login_required
def user_list():
    form = _filter_form(request.args)
    if not form.validate():
        return render_template("accounts/users.html", form=form, page=None), 400
    filters = {key: value for key, value in (("q", (form.q.data or "").strip()), ("status", form.status.data),
                                             ("role", form.role.data), ("organisation", form.organisation.data))
               if value}
    try:
        page = administration.list_users(current_user, limit=min(PAGE_SIZE, MAX_LIMIT), cursor=form.cursor.data or None,
                                         q=filters.get("q"), active=STATUSES[form.status.data or ""],
                                         role=Role(filters["role"]) if "role" in filters else None,
                                         organisation_id=int(filters["organisation"]) if "organisation" in filters
                                         else None)
    except InvalidInput as exc:
        return render_template("accounts/users.html", form=form, page=None, error=exc.message), exc.status
    older = url_for("users_web.user_list", **filters, cursor=page.next_cursor) if page.next_cursor else None
    newest = url_for("users_web.user_list", **filters) if form.cursor.data else None
    return render_template("accounts/users.html", form=form, page=page, filtered=bool(filters), older=older,
                           newest=newest)


@blp.route("/users/new", methods=["GET", "POST"])
@login_required
def invite():
    access.require(current_user, "user.manage")
    form = _invite_form()
    if form.validate_on_submit():
        try:
            user = administration.invite(current_user, email=form.email.data, name=form.name.data,
                                         role=Role(form.role.data), organisation_id=form.organisation.data)
        except (InvalidInput, Conflict, RuleViolation) as exc:
            _put_on_fields(form, exc, {"organisation_id": "organisation"})
            return render_template("accounts/invite.html", form=form), exc.status
        flash(f"{user.name} is invited: an e-mail with a link to choose a password is on its way to {user.email}.",
              "info")
        return redirect(url_for("users_web.user_page", user_id=user.id), 303)
    return render_template("accounts/invite.html", form=form), 400 if form.is_submitted() else 200


def _user_page(user, form: UserForm | None = None, status: int = 200):
    if form is None:
        form = UserForm(formdata=None, name=user.name, role=user.role.value)
    form.role.choices = [SelectChoice(role.value, _label(role)) for role in roles_for(user.organisation)]
    return render_template("accounts/user.html", user=user, form=form, today=now().date()), status


@blp.get("/users/<int:user_id>")
@login_required
def user_page(user_id: int):
    return _user_page(administration.get_user(current_user, user_id))


@blp.post("/users/<int:user_id>")
@login_required
def change(user_id: int):
    user = administration.get_user(current_user, user_id)
    form = UserForm()
    form.role.choices = [SelectChoice(role.value, _label(role)) for role in roles_for(user.organisation)]
    if not form.validate_on_submit():
        return _user_page(user, form, 400)
    try:
        administration.change_user(current_user, user_id, name=form.name.data, role=Role(form.role.data))
    except (InvalidInput, Conflict, RuleViolation) as exc:
        _put_on_fields(form, exc, {})
        return _user_page(user, form, exc.status)
    flash(f"{form.name.data} is saved.", "info")
    return redirect(url_for("users_web.user_page", user_id=user_id), 303)


def _act(user_id: int, action, done: str):
    try:
        user = action(current_user, user_id)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(done.format(name=user.name, email=user.email), "info")
    return redirect(url_for("users_web.user_page", user_id=user_id), 303)


@blp.post("/users/<int:user_id>/deactivation")
@login_required
def deactivate(user_id: int):
    return _act(user_id, administration.deactivate,
                "{name} is deactivated: signed out everywhere, API tokens revoked.")


@blp.post("/users/<int:user_id>/reactivation")
@login_required
def reactivate(user_id: int):
    return _act(user_id, administration.reactivate, "{name} may sign in again.")


@blp.post("/users/<int:user_id>/invitation")
@login_required
def invite_again(user_id: int):
    return _act(user_id, administration.invite_again,
                "A new invitation is on its way to {email}; the earlier link no longer works.")
