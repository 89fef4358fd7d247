"""Server-rendered case pages: the case list and case page, a customer's cases and requests,
and the case's attachments (upload and download).

Each view parses the request, calls the services and renders. Rules live in
the services and in app.access; a domain error becomes a message on the page,
next to the form that caused it, answered with the error's status.
"""
from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, HiddenField, SearchField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app import access
from app.accounts.models import Role
from app.attachments import services as attachments
from app.attachments.forms import ATTACHMENT_KINDS, human_size, read_upload_form
from app.attachments.http import download_response
from app.cases import services
from app.cases.models import CaseStatus, Channel, Severity
from app.cases.page import SEVERITY_CHOICES, MessageForm, render_case
from app.cases.schemas import CaseCreateSchema
from app.errors import DomainError, Forbidden, NotFound
from app.extensions import csrf

blp = Blueprint("cases_web", __name__, template_folder="templates")

CHANNEL_VALUES = {channel.value for channel in Channel}
CASE_FIELDS = ("serial_number", "software_version", "severity", "title", "description",
               "scope_what", "scope_when", "scope_how", "hardware_issue", "crash")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CaseFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing, and its address must be shareable

    status = SelectField("Status", default="", choices=[SelectChoice("", "Any status")] + [
        SelectChoice(s.value, s.value.capitalize()) for s in CaseStatus])
    severity = SelectField("Severity", default="", choices=[SelectChoice("", "Any severity")] + [
        SelectChoice(s.value) for s in Severity])
    q = SearchField("Title or serial contains", filters=[_strip],
                    validators=[Optional(), Length(max=200)])
    cursor = HiddenField(validators=[Optional(), Length(max=200)])

    def filters(self) -> dict:
        """The chosen filters, without the empty ones."""
        chosen = {"status": self.status.data, "severity": self.severity.data, "q": self.q.data}
        return {name: value for name, value in chosen.items() if value}


class CaseForm(FlaskForm):
    # Field rules come from the API's CaseCreateSchema (see _case_input), so web and API agree.
    serial_number = StringField("Serial number", filters=[_strip], validators=[DataRequired()])
    software_version = StringField("Software version", filters=[_strip], validators=[DataRequired()])
    severity = SelectField("Severity", choices=SEVERITY_CHOICES, default=Severity.S3.value)
    title = StringField("Title", filters=[_strip], validators=[DataRequired()])
    description = TextAreaField("Description", validators=[DataRequired()])
    scope_what = TextAreaField("What happens")
    scope_when = TextAreaField("When it started, and how often")
    scope_how = TextAreaField("How to reproduce it")
    hardware_issue = BooleanField("This looks like a hardware fault")
    crash = BooleanField("The device crashed or restarted by itself")


def _render_list(template: str):
    form = CaseFilterForm(formdata=request.args)
    if not form.validate():
        return render_template(template, form=form, page=None), 400
    filters = form.filters()
    try:
        page = services.list_cases(current_user, cursor=form.cursor.data or None, **filters)
    except DomainError as exc:
        return render_template(template, form=form, page=None, error=exc.message), exc.status
    older = (url_for(request.endpoint, **filters, cursor=page.next_cursor)
             if page.next_cursor else None)
    newest = url_for(request.endpoint, **filters) if form.cursor.data else None
    return render_template(template, form=form, page=page, filtered=bool(filters),
                           older=older, newest=newest)


@blp.get("/cases")
@login_required
def case_list():
    """The cases the user works: a partner's customers' cases, or GTAC's escalated ones."""
    if current_user.role is Role.CUSTOMER:
        return redirect(url_for("cases_web.my_cases", **request.args))
    return _render_list("cases/list.html")


@blp.get("/my/cases")
@login_required
def my_cases():
    """A customer's own organisation's cases."""
    return _render_list("cases/my_cases.html")


def _case_input(form: CaseForm) -> dict | None:
    """The form as the API's case body, or None after putting each refusal on its field."""
    raw = {name: getattr(form, name).data for name in CASE_FIELDS}
    raw = {name: value for name, value in raw.items() if value not in (None, "")}
    try:
        return CaseCreateSchema().load(raw)
    except ma.ValidationError as exc:
        for name, messages in exc.normalized_messages().items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, *messages]
        return None


def _open_case(template: str):
    # Refuse before showing a form that the role could never send.
    access.require(current_user, "case.open")
    form = CaseForm()
    error, status = None, 200
    if request.method == "POST":
        status = 400
        data = _case_input(form) if form.validate_on_submit() else None
        if data is not None:
            try:
                case = services.open_case(current_user, data)
            except DomainError as exc:
                error, status = exc.message, exc.status
                for name in exc.details:
                    if name in CASE_FIELDS:
                        getattr(form, name).errors = [*getattr(form, name).errors, exc.message]
            else:
                flash(f"Case #{case.id} is open: {case.title}", "info")
                return redirect(url_for("cases_web.case_page", case_id=case.id), 303)
    return render_template(template, form=form, error=error, serials=_serial_choices()), status


def _serial_choices() -> list[dict]:
    """The caller's covered serials for the form's picker; the service still checks the one sent."""
    choices = {}
    for covered in services.covered_serials(current_user):
        choices.setdefault(covered.serial_number, {
            "serial": covered.serial_number, "customer": covered.contract.customer.name,
            "product": f"{covered.product.family} {covered.product.model}"})
    return list(choices.values())


@blp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new_case():
    """A partner opens a case for one of its customers' covered serials."""
    return _open_case("cases/new.html")


@blp.route("/my/requests/new", methods=["GET", "POST"])
@login_required
def new_request():
    """A customer opens a support request with its own partner."""
    return _open_case("cases/new_request.html")


@blp.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int):
    """One case: details, SR, GTAC checklist, attachments, the thread channels the user may read, audit trail."""
    return render_case(case_id)


@blp.post("/cases/<int:case_id>/messages")
@login_required
def post_message(case_id: int):
    """Post to one channel of the thread; a refusal is shown next to that channel's form."""
    form = MessageForm()
    if form.channel.data not in CHANNEL_VALUES:
        flash("Choose one of the thread's channels to post to.", "error")
        return render_case(case_id, status=400)
    if not form.validate_on_submit():
        return render_case(case_id, posted=form, status=400)
    try:
        services.post_message(current_user, case_id, form.channel.data, form.body.data)
    except DomainError as exc:
        return render_case(case_id, posted=form, post_error=exc.message, status=exc.status)
    flash("Message posted.", "info")
    return redirect(url_for("cases_web.case_page", case_id=case_id,
                            _anchor=f"thread-{form.channel.data}"), 303)


@blp.post("/cases/<int:case_id>/severity")
@login_required
def change_severity(case_id: int):
    """The partner re-rates its open case; a refusal is shown next to the form."""
    severity = request.form.get("severity", "")
    try:
        case = services.change_severity(current_user, case_id, severity)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        return render_case(case_id, exc.status, severity_error=exc.message)
    flash(f"Severity is now {case.severity.value}.", "info")
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor="details"), 303)


# Exempt from the global CSRF hook, which would read the whole body before anyone is
# authorised; read_upload_form checks the token once the service has authorised the caller.
@blp.post("/cases/<int:case_id>/attachments")
@csrf.exempt
@login_required
def upload_attachment(case_id: int):
    """Attach one file to the case (multipart: kind, file), streamed to storage."""
    try:
        attachment = attachments.upload(current_user, case_id, read_upload_form)
    except RequestEntityTooLarge:
        limit = human_size(current_app.config["MAX_UPLOAD_BYTES"])
        return render_case(case_id, 413, upload_error=f"The file is larger than the {limit} limit.")
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        # The form was read by now: choose the kind again for the next try.
        return render_case(case_id, exc.status, upload_error=exc.message, upload_kind=request.form.get("kind"))
    flash(f"Uploaded {attachment.filename} ({ATTACHMENT_KINDS[attachment.kind.value].lower()}, "
          f"{human_size(attachment.size)}).", "info")
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor="attachments"), 303)


@blp.get("/cases/<int:case_id>/attachments")
@login_required
def attachments_section(case_id: int):
    """The address a refused upload was shown at: back to the case's attachments."""
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor="attachments"))


@blp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@login_required
def download_attachment(case_id: int, attachment_id: int):
    """The file itself, always as a download: never rendered in the page's origin."""
    return download_response(attachments.get_attachment(current_user, case_id, attachment_id))


# Pages show byte counts as people read them.
blp.add_app_template_filter(human_size, "size")
