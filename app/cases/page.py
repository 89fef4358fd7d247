"""The case page, drawn here for every feature whose form sits on it.

The checklist, escalation and triage forms answer a refused submission with the
case page and the refusal next to the form; they draw it through render_case.
"""
from __future__ import annotations

import secrets

from flask import current_app, flash, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app import access
from app.attachments.forms import ATTACHMENT_KINDS
from app.cases.overview import CaseOverview, case_overview
from app.cases.models import CaseStatus, Severity
from app.checklists.schemas import checklist_document
from app.srs.progress import stage_of
from app.triage.resolution import ResolutionPanel

# The meaning of each severity, as SPEC §6 states it, so that people pick the right one.
SEVERITY_CHOICES = [
    SelectChoice(Severity.S1.value, "S1 · network down, critical business impact"),
    SelectChoice(Severity.S2.value, "S2 · degraded, a major function impaired"),
    SelectChoice(Severity.S3.value, "S3 · minor impact"),
    SelectChoice(Severity.S4.value, "S4 · question, documentation or feature request"),
]
MESSAGE_MAX = 20000


class MessageForm(FlaskForm):
    channel = HiddenField(validators=[DataRequired()])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=MESSAGE_MAX)])


def render_case(case_id: int, status: int = 200, *, posted: MessageForm | None = None,
                post_error: str | None = None, **feedback):
    """The case page, answered with `status`.

    `feedback` puts a refusal next to the form that caused it, and the template
    fills that form again from request.form: checklist_errors {item code: message}
    and checklist_refused (what the whole checklist form was told; every item then
    shows what was sent), refusal (the reasons an escalation was refused),
    escalation_error, upload_error.
    """
    overview = case_overview(current_user, case_id)
    page = overview.page
    threads = []
    for channel in access.readable_channels(current_user):
        bound = posted is not None and posted.channel.data == channel.value
        writable = channel in page.writable_channels
        threads.append({
            "channel": channel,
            "messages": [m for m in page.messages if m.channel is channel],
            "writable": writable,
            # The posted form, drawn again with what was sent; an empty form needs no form object.
            "form": posted if writable and bound else None,
            "error": post_error if bound else None,
        })
    if post_error and not any(thread["error"] for thread in threads):
        flash(post_error, "error")  # a channel the page does not show: say it at the top
    case = page.detail
    is_open = case.status is CaseStatus.OPEN
    checklist = _checklist_section(overview, is_open) if overview.checklist else None
    service_request = case.case.service_request
    return render_template(
        "cases/case.html", case=case, service_request=service_request, threads=threads,
        sr_stage=stage_of(service_request) if service_request else None,
        audit=page.audit, checklist=checklist, severity_choices=SEVERITY_CHOICES,
        resolution=overview.resolution, attachments=overview.attachments, blockers=overview.blockers,
        gtac_said=overview.gtac_said,
        attachment_kinds=ATTACHMENT_KINDS, may_upload=access.allowed(current_user, "attachment.upload"),
        max_upload_bytes=current_app.config["MAX_UPLOAD_BYTES"], message_max=MESSAGE_MAX,
        # Generated with the page, so that a double submit of this form answers with the same SR.
        escalation_key=(secrets.token_urlsafe(24) if is_open and access.allowed(current_user, "case.escalate")
                        else None),
        page_url=url_for("cases_web.case_page", case_id=case_id), **feedback), status


def _checklist_section(overview: CaseOverview, is_open: bool) -> dict:
    view = overview.checklist
    document = checklist_document(view.evaluation, view.responses, view.suggestions)
    editable = is_open and access.allowed(current_user, "checklist.respond")
    required = [item for item in document["items"] if item["required"]]
    document.update(
        editable=editable, required=len(required), met=sum(1 for item in required if item["met"]),
        # What the engineer needs to rule on each suggested known anomaly: its title and fix.
        anomalies=_suggested_anomalies(overview.resolution) if editable and view.suggestions else {})
    return document


def _suggested_anomalies(panel: ResolutionPanel | None) -> dict[str, dict]:
    entries = (panel.findings + panel.weaker) if panel else []
    # What matched goes with each suggestion, so that a list that changes as the case grows says why.
    return {entry["anomaly"].code: {"title": entry["anomaly"].title, "first_fix": entry["suggestion"].first_fix,
                                    "matched_terms": entry["suggestion"].matched_terms[:8],
                                    "log_lines": len(entry["suggestion"].log_evidence),
                                    "signatures": entry["suggestion"].signature_kinds}
            for entry in entries}
