"""Server-rendered case pages for partners, customers and GTAC."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app import access
from app.cases import services
from app.cases.models import CaseStatus, Severity
from app.errors import DomainError

blp = Blueprint("cases_web", __name__, template_folder="templates")

SEVERITY_CHOICES = [(s.value, s.value) for s in Severity]


class CaseForm(FlaskForm):
    serial_number = StringField("Serial number", validators=[DataRequired(), Length(max=64)])
    software_version = StringField("Software version", validators=[DataRequired(), Length(max=64)])
    severity = SelectField("Severity", choices=SEVERITY_CHOICES, default="S3")
    title = StringField("Title", validators=[DataRequired(), Length(min=3, max=200)])
    description = TextAreaField("Description", validators=[DataRequired(), Length(max=20000)])
    hardware_issue = BooleanField("Hardware issue")


class MessageForm(FlaskForm):
    channel = SelectField("Channel", choices=[])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=20000)])


def _case_data(form: CaseForm) -> dict:
    return {name: getattr(form, name).data for name in
            ("serial_number", "software_version", "severity", "title", "description", "hardware_issue")}


def _open(form: CaseForm, template: str):
    if form.validate_on_submit():
        try:
            case = services.open_case(current_user, _case_data(form))
        except DomainError as exc:
            flash(exc.message, "error")
            return render_template(template, form=form), exc.status
        flash(f"Case {case.id} opened.", "info")
        return redirect(url_for("cases_web.case_page", case_id=case.id))
    return render_template(template, form=form), 400 if request.method == "POST" else 200


@blp.get("/cases")
@login_required
def case_list():
    status = request.args.get("status") or None
    if status not in {None, *(s.value for s in CaseStatus)}:
        status = None
    page = services.list_cases(current_user, status=status, cursor=request.args.get("cursor") or None)
    return render_template("cases/list.html", page=page, status=status)


@blp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new_case():
    access.require(current_user, "case.open")
    return _open(CaseForm(), "cases/new.html")


@blp.get("/my/cases")
@login_required
def my_cases():
    page = services.list_cases(current_user, cursor=request.args.get("cursor") or None)
    return render_template("cases/my_cases.html", page=page)


@blp.route("/my/requests/new", methods=["GET", "POST"])
@login_required
def new_request():
    access.require(current_user, "case.open")
    return _open(CaseForm(), "cases/new_request.html")


@blp.route("/cases/<int:case_id>", methods=["GET", "POST"])
@login_required
def case_page(case_id: int):
    case = services.get_case(current_user, case_id)
    form = MessageForm()
    form.channel.choices = [(c.value, c.value) for c in access.readable_channels(current_user)]
    if form.validate_on_submit():
        try:
            services.post_message(current_user, case_id, form.channel.data, form.body.data)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            return redirect(url_for("cases_web.case_page", case_id=case_id))
    messages = services.list_messages(current_user, case_id)
    audit = (services.case_audit_trail(current_user, case_id)
             if access.allowed(current_user, "case.audit.read") else [])
    return render_template("cases/case.html", case=case, messages=messages, audit=audit, form=form)
