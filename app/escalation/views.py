"""The case page's "Escalate to GTAC" button.

The form carries an idempotency key generated when the page was rendered, so a
double submit (or a retry after a lost answer) returns the SR of the first one.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from app import access
from app.cases.page import render_case
from app.errors import Conflict, RuleViolation
from app.escalation import services
from app.escalation.api import IDEMPOTENCY_KEY

blp = Blueprint("escalation_web", __name__)

NOTE_MAX = 5000


@blp.post("/cases/<int:case_id>/escalation")
@login_required
def escalate(case_id: int):
    """Escalate the case: to the case page with the SR number, or the page with every reason it is refused."""
    access.require(current_user, "case.escalate")
    key = request.form.get("idempotency_key", "")
    note = (request.form.get("note") or "").replace("\r\n", "\n").strip()
    if not IDEMPOTENCY_KEY.match(key):
        return render_case(case_id, 400, escalation_error="This form is incomplete; reload the page and try again.")
    if len(note) > NOTE_MAX:
        return render_case(case_id, 400, escalation_error=f"The note for GTAC may hold at most {NOTE_MAX} characters.")
    try:
        answer, _ = services.escalate(current_user, case_id, {"note": note} if note else {}, key)
    except RuleViolation as exc:
        reasons = exc.details.get("reasons") or [{"code": exc.code, "message": exc.message}]
        return render_case(case_id, exc.status, refusal=reasons)
    except Conflict as exc:
        return render_case(case_id, exc.status, escalation_error=exc.message)
    flash(f"Escalated to GTAC as {answer['sr_number']}, in the {answer['queue']} queue.", "info")
    # An explicit fragment, or the browser keeps the form's #checklist: the SR shows at the top.
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor="main"), 303)


@blp.get("/cases/<int:case_id>/escalation")
@login_required
def escalation(case_id: int):
    """The address a refusal was shown at: back to the case's checklist."""
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor="checklist"))
