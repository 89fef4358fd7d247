"""Your own account: who you are and your password; and, before signing in, accepting an invitation
and resetting a forgotten password by an e-mailed link."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from app.accounts import credentials, invitations
from app.accounts.links import open_link
from app.accounts.models import LinkPurpose
from app.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.errors import DomainError, InvalidInput
from app.extensions import db

blp = Blueprint("account_web", __name__, template_folder="templates")
PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters; a few unrelated words make a good one."


def _password_fields():
    return (PasswordField("New password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]),
            PasswordField("New password again", validators=[
                DataRequired(), EqualTo("new_password", message="The two passwords differ.")]))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(),
                                                                      Length(max=MAX_PASSWORD_LENGTH)])
    new_password, confirm = _password_fields()


class NewPasswordForm(FlaskForm):
    new_password, confirm = _password_fields()


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])


def _put_on_fields(form: FlaskForm, error: DomainError) -> None:
    """A service's refusal shown on the fields it names, or on the form."""
    named = False
    for name, messages in (error.details.get("fields") or {}).items():
        field = getattr(form, {"password": "new_password"}.get(name, name), None)
        if field is not None:
            field.errors = [*field.errors, *messages]
            named = True
    if not named:
        form.form_errors.append(error.message)


def _account_page(form: PasswordChangeForm | None = None, status: int = 200):
    return render_template("accounts/account.html", form=form or PasswordChangeForm(formdata=None),
                           hint=PASSWORD_HINT), status


@blp.get("/account")
@login_required
def account():
    return _account_page()


@blp.post("/account/password")
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            user = credentials.change_password(current_user, form.current_password.data, form.new_password.data)
        except InvalidInput as exc:
            _put_on_fields(form, exc)
        else:
            login_user(user)  # every session of the user ended: this browser gets a new one
            flash("Your password is changed. You were signed out everywhere else.", "info")
            return redirect(url_for("account_web.account"), 303)
    return _account_page(form, status=400)


@blp.route("/password-reset", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        credentials.request_password_reset(form.email.data)
        return render_template("accounts/reset_sent.html", email=form.email.data), 202
    return render_template("accounts/forgot_password.html", form=form), 400 if form.is_submitted() else 200


def _link_page(secret: str, purpose: LinkPurpose, redeem, done: str):
    """The page of an e-mailed link: a form to choose a password, or why the link opens nothing."""
    try:
        link = open_link(db.session, secret, purpose)
    except DomainError as exc:
        return render_template("accounts/link_gone.html", message=exc.message, purpose=purpose.value), exc.status
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            redeem(secret, form.new_password.data)
        except InvalidInput as exc:
            _put_on_fields(form, exc)
        except DomainError as exc:
            return render_template("accounts/link_gone.html", message=exc.message, purpose=purpose.value), exc.status
        else:
            flash(done, "info")
            return redirect(url_for("web.login"), 303)
    return render_template("accounts/set_password.html", form=form, user=link.user, purpose=purpose.value,
                           hint=PASSWORD_HINT), 400 if form.is_submitted() else 200


@blp.route("/invitations/<secret>", methods=["GET", "POST"])
def accept_invitation(secret: str):
    return _link_page(secret, LinkPurpose.INVITATION, invitations.accept_invitation,
                      "Your password is set. Sign in with your e-mail address and it.")


@blp.route("/password-reset/<secret>", methods=["GET", "POST"])
def reset_password(secret: str):
    return _link_page(secret, LinkPurpose.PASSWORD_RESET, credentials.reset_password,
                      "Your password is changed, and you were signed out everywhere. Sign in with the new one.")
