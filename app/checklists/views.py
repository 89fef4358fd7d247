"""The GTAC checklist on the case page: one small form per item, answered one item at a time.

The checklist itself is rendered with the case page (app/cases/page.py); this module
turns one item's posted form into the body the checklist service takes (the same body
as PUT /api/v1/cases/{id}/checklist/{code}) and records it.
"""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from app import access
from app.bounds import ascii_digits
from app.cases.page import render_case
from app.checklists import services
from app.checklists.numbering import number_of
from app.errors import Conflict, InvalidInput, RuleViolation

blp = Blueprint("checklists_web", __name__, template_folder="templates")

RULING_PREFIX = "ruling:"

# Every page names an item by the vendor's number (SPEC §4.2), never by its place in a list.
blp.add_app_template_global(number_of, "checklist_item_number")


def _text(value: str | None) -> str:
    # Browsers send a text area's line breaks as CRLF; store them as people typed them.
    return (value or "").replace("\r\n", "\n").strip()


def _attestation(form: MultiDict) -> dict:
    if form.get("value") != "true":
        raise InvalidInput("Tick the box to confirm, then save.", code="not_confirmed")
    return {"value": True}


def _text_answer(form: MultiDict) -> dict:
    value = _text(form.get("value"))
    if not value:
        raise InvalidInput("Write your answer, then save.", code="answer_missing")
    return {"value": value}


def _choice(form: MultiDict) -> dict:
    value = form.get("value")
    if not value:
        raise InvalidInput("Choose an answer, then save.", code="answer_missing")
    reason = _text(form.get("reason"))
    return {"value": value, "reason": reason} if reason else {"value": value}


def _attachments(form: MultiDict) -> dict:
    chosen = form.getlist("attachment_id")
    if not chosen:
        raise InvalidInput("Choose at least one attachment, then save.", code="answer_missing")
    if not all(ascii_digits(value, 18) for value in chosen):
        raise InvalidInput("Choose attachments from the list.", code="invalid_value")
    return {"value": {"attachment_ids": [int(value) for value in chosen]}}


def _triage_ruling(form: MultiDict) -> dict:
    rulings = [{"anomaly_id": name.removeprefix(RULING_PREFIX), "ruling": ruling}
               for name, ruling in form.items(multi=True) if name.startswith(RULING_PREFIX)]
    if rulings:
        return {"value": {"rulings": rulings}}
    if form.get("suggestions"):
        raise InvalidInput("Rule on the suggested known anomalies, then save.", code="answer_missing")
    return _attestation(form)


PARSERS: dict[str, Callable[[MultiDict], dict]] = {
    "attestation": _attestation, "text": _text_answer, "choice": _choice,
    "attachments": _attachments, "triage_ruling": _triage_ruling,
}


def response_body(form: MultiDict) -> dict:
    """The posted item form as the checklist service's body; InvalidInput when it cannot be one."""
    if form.get("not_applicable"):
        return {"not_applicable": True, "reason": _text(form.get("not_applicable_reason"))}
    parse = PARSERS.get(form.get("kind", ""))
    if parse is None:
        raise InvalidInput("This form does not say which kind of item it answers; reload the page.",
                           code="invalid_form")
    return parse(form)


@blp.post("/cases/<int:case_id>/checklist/<string:code>")
@login_required
def respond(case_id: int, code: str):
    """Record the answer to one item, then back to that item; a refusal is shown next to it."""
    access.require(current_user, "checklist.respond")
    try:
        services.record_response(current_user, case_id, code, response_body(request.form))
    except (InvalidInput, RuleViolation, Conflict) as exc:
        return render_case(case_id, exc.status, item_error={"code": code, "message": exc.message})
    flash("Answer saved.", "info")
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor=f"item-{code}"), 303)


@blp.get("/cases/<int:case_id>/checklist/<string:code>")
@login_required
def item(case_id: int, code: str):
    """The address a refused answer was shown at: back to the item on the case page."""
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor=f"item-{code}"))
