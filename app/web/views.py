"""Sign-in, sign-out, the home redirect and the API docs page."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from app.accounts.models import Role
from app.accounts.services import authenticate
from app.errors import TooManyAttempts, Unauthorized

blp = Blueprint("web", __name__)


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


def home_for(user) -> str:
    if user.role is Role.CUSTOMER:
        return url_for("cases_web.my_cases")
    return url_for("cases_web.case_list")


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths, so the login form cannot redirect off-site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@blp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("web.login"))


@blp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, request.remote_addr)
        except (Unauthorized, TooManyAttempts) as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form), status


@blp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("web.login"))


@blp.get("/api/v1/docs")
def api_docs():
    """Interactive API reference rendered from the OpenAPI document."""
    return render_template("api_docs.html")
