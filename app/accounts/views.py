"""The signed-in person's API tokens: issue one (its secret shown once), see them, revoke one."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.accounts import services
from app.clock import now

blp = Blueprint("accounts_web", __name__, template_folder="templates")


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=100)])
    # No Optional(): it ends validation on whitespace before the choice is checked; "" is a choice.
    expires_in_days = SelectField("Expires", default="", choices=[
        SelectChoice("", "Never"), SelectChoice("7", "In 7 days"), SelectChoice("30", "In 30 days"),
        SelectChoice("90", "In 90 days"), SelectChoice("365", "In a year")])


def _page(form: TokenForm | None = None, issued: str | None = None, status: int = 200):
    return render_template("accounts/tokens.html", tokens=services.list_tokens(current_user),
                           form=form or TokenForm(formdata=None), issued=issued, now=now()), status


@blp.get("/account/tokens")
@login_required
def tokens():
    return _page()


@blp.post("/account/tokens")
@login_required
def issue():
    """A new token; its secret is in this answer only (never in the session or a redirect)."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    secret, _ = services.issue_token(current_user, (form.name.data or "").strip() or None,
                                     int(form.expires_in_days.data) if form.expires_in_days.data else None)
    return _page(issued=secret, status=201)


@blp.post("/account/tokens/<int:token_id>/revocation")
@login_required
def revoke(token_id: int):
    token = services.revoke_token(current_user, token_id)
    flash(f"Token “{token.name}” revoked: it no longer opens the API.", "info")
    return redirect(url_for("accounts_web.tokens"), 303)
