"""The case page's resolution panel: resolve with a known fix instead of escalating, or reopen.

The panel is rendered with the case page (app/cases/page.py); these views take
its two forms, call the resolution service, and show a refusal next to the form.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from app.cases.page import render_case
from app.errors import DomainError
from app.triage import resolution

blp = Blueprint("triage_web", __name__, template_folder="templates")

NOTE_LIMIT = 5000


def _text(name: str) -> str:
    return (request.form.get(name) or "").replace("\r\n", "\n").strip()


@blp.post("/cases/<int:case_id>/resolution")
@login_required
def resolve(case_id: int):
    """Resolve the case with the fix of the anomaly named in the form."""
    anomaly_id, note = _text("anomaly_id"), _text("note")
    if not anomaly_id or len(note) > NOTE_LIMIT:
        message = ("Choose the known anomaly whose fix you applied." if not anomaly_id
                   else f"Keep the note to the customer under {NOTE_LIMIT} characters.")
        return render_case(case_id, 400, resolution_error=message)
    try:
        resolution.resolve_with_known_fix(current_user, case_id, anomaly_id, note or None)
    except DomainError as exc:
        return render_case(case_id, exc.status, resolution_error=exc.message)
    flash("Case resolved. The customer has been told what to do.", "info")
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor="resolution"), 303)


@blp.post("/cases/<int:case_id>/reopening")
@login_required
def reopen(case_id: int):
    """Reopen a case whose known fix did not help."""
    reason = _text("reason")
    if not reason or len(reason) > NOTE_LIMIT:
        return render_case(case_id, 400, resolution_error="Say why the fix did not help (at most "
                                                          f"{NOTE_LIMIT} characters), then reopen.")
    try:
        resolution.reopen_case(current_user, case_id, reason)
    except DomainError as exc:
        return render_case(case_id, exc.status, resolution_error=exc.message)
    flash("Case reopened. You can now escalate it to GTAC.", "info")
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor="resolution"), 303)
