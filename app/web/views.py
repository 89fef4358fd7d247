"""Sign-in, sign-out, the start page, the API reference page and helpers every page template uses."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from swagger_ui_bundle import swagger_ui_path
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from app import access
from app.accounts import identity_provider
from app.accounts.models import GTAC_ROLES, Role
from app.accounts.services import authenticate
from app.errors import Forbidden, TooManyAttempts, Unauthorized
from app.web import navigation
from app.web.filters import format_when

blp = Blueprint("web", __name__)


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


@blp.app_context_processor
def page_helpers() -> dict:
    """`may(action)` lets templates show only the links the signed-in user's role can follow;
    `main_links(role)` is the header's navigation for a role."""

    def may(action: str) -> bool:
        user = current_user._get_current_object()
        return user.is_authenticated and access.allowed(user, action)

    return {"may": may, "main_links": navigation.links_for}


blp.add_app_template_filter(format_when, "when")


def home_for(user) -> str:
    """The first page after sign-in: where this user's daily work is."""
    if user.role is Role.CUSTOMER:
        return url_for("cases_web.my_cases")
    if user.role in GTAC_ROLES:
        return url_for("srs_web.queue")
    if user.role is Role.PROGRAMS:
        return url_for("payments_web.programmes")
    if access.allowed(user, "organisation.manage"):
        return url_for("admin_web.index")
    if access.allowed(user, "case.list"):
        return url_for("cases_web.case_list")
    return url_for("web.home")


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths, so the login form cannot redirect off-site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:  # browsers read "/\evil.example" as another host
        return None
    return target


@blp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("web.login"))


@blp.get("/home")
@login_required
def home():
    """A start page for roles whose work has no pages yet."""
    return render_template("home.html")


@blp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_for(current_user))
    form = LoginForm()
    status = 200
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, request.remote_addr)
        except (Unauthorized, Forbidden, TooManyAttempts) as exc:
            error, status = exc.message, exc.status
        else:
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
    elif request.method == "POST":
        status = 400
    return login_page(form, error, status)


def login_page(form: LoginForm | None = None, error: str | None = None, status: int = 200):
    """The sign-in page: the password form and, when configured, the identity provider's button."""
    provider = identity_provider.display_name() if identity_provider.configured() else None
    return render_template("login.html", form=form or LoginForm(formdata=None), error=error,
                           single_sign_on=provider), status


@blp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("web.login"))


@blp.get("/api/v1/docs")
def api_docs():
    """Interactive API reference (Swagger UI) rendered from the OpenAPI document."""
    return render_template("api_docs.html")


@blp.get("/api-reference/<path:filename>")
def api_docs_asset(filename: str):
    """Swagger UI's files, from the installed swagger-ui-bundle package: nothing comes from the internet."""
    return send_from_directory(swagger_ui_path, filename, max_age=86_400)


@blp.get("/favicon.ico")
def favicon():
    """Where browsers look for an icon when a page names none (a file, an error page)."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
