"""The GTAC checklist on the case page: one form holding every item.

The checklist itself is rendered with the case page (app/cases/page.py). Each item's fields are
named `<item code>.<field>`, so the one form carries every item. Sent as a whole (the only way
without JavaScript), every answered item is saved together, or none when one is refused; the
page's script saves one item at a time through its own address instead. This module turns an
item's fields into the body the checklist service takes (the same body as
PUT /api/v1/cases/{id}/checklist/{code}).
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


def item_fields(form: MultiDict, code: str) -> MultiDict:
    """One item's fields of the checklist form, without the item's prefix."""
    prefix = f"{code}."
    return MultiDict([(name.removeprefix(prefix), value) for name, value in form.items(multi=True)
                      if name.startswith(prefix)])


# Fields that every item's form carries whether or not anything was answered.
FORM_FIELDS = {"kind", "suggestions"}


def posted_items(form: MultiDict) -> list[str]:
    """The items the checklist form carried, in the page's order."""
    return [name.removesuffix(".kind") for name in form if name.endswith(".kind")]


def answered(fields: MultiDict) -> bool:
    """Whether an item's fields hold anything at all (an item left blank is not an answer)."""
    return any(_text(value) for name, value in fields.items(multi=True) if name not in FORM_FIELDS)


@blp.post("/cases/<int:case_id>/checklist")
@login_required
def respond_all(case_id: int):
    """Save every answered item of the checklist form together, or none of them: each refusal is
    shown next to its item, and what was typed in every item is kept on the page."""
    access.require(current_user, "checklist.respond")
    answers, refused = {}, {}
    for code in posted_items(request.form):
        fields = item_fields(request.form, code)
        if not answered(fields):
            continue
        try:
            answers[code] = response_body(fields)
        except InvalidInput as exc:
            refused[code] = exc.message
    try:
        saved = services.record_responses(current_user, case_id, answers, refused)
    except services.ChecklistAnswersRefused as exc:
        return render_case(case_id, exc.status, checklist_errors={
            code: error["message"] for code, error in exc.errors.items()}, checklist_refused=exc.message)
    except (InvalidInput, RuleViolation, Conflict) as exc:
        return render_case(case_id, exc.status, checklist_refused=exc.message)
    flash(f"Saved {len(saved)} answer{'' if len(saved) == 1 else 's'}." if saved
          else "Nothing to save: no answer changed.", "info")
    # Back to the item whose button was pressed, if one was.
    pressed = request.form.get("save", "")
    return redirect(url_for("cases_web.case_page", case_id=case_id,
                            _anchor=f"item-{pressed}" if pressed in posted_items(request.form) else "checklist"),
                    303)


@blp.post("/cases/<int:case_id>/checklist/<string:code>")
@login_required
def respond(case_id: int, code: str):
    """Record the answer to one item (the page's script sends the whole checklist form here and
    only this item's fields are read), then back to that item; a refusal is shown next to it."""
    access.require(current_user, "checklist.respond")
    try:
        services.record_response(current_user, case_id, code, response_body(item_fields(request.form, code)))
    except (InvalidInput, RuleViolation, Conflict) as exc:
        return render_case(case_id, exc.status, checklist_errors={code: exc.message})
    flash("Answer saved.", "info")
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor=f"item-{code}"), 303)


@blp.get("/cases/<int:case_id>/checklist/<string:code>")
@login_required
def item(case_id: int, code: str):
    """The address a refused answer was shown at: back to the item on the case page."""
    return redirect(url_for("cases_web.case_page", case_id=case_id, _anchor=f"item-{code}"))


@blp.app_template_global("posted_item")
def posted_item(code: str) -> MultiDict:
    """What the refused checklist form carried for one item, to show it again as it was typed."""
    return item_fields(request.form, code)
