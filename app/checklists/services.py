"""Use cases of the checklist: read a case's evaluation, record a response, migrate versions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from app import access
from app.accounts.models import Person, User
from app.attachments.models import Attachment
from app.audit.services import record
from app.bounds import MAX_ID, is_record_id
from app.cases.models import Case, CaseStatus
from app.checklists.definitions import CaseFacts, ChecklistDefinition, ChecklistRegistry, ItemDefinition
from app.checklists.evaluation import Evaluation, ResponseView, evaluate
from app.checklists.models import ChecklistResponse
from app.checklists.numbering import item_label
from app.clock import now
from app.uow import UnitOfWork, unit_of_work
from app.errors import Conflict, InvalidInput, NotFound, RuleViolation
from app.extensions import db

CHECKLIST_NAME = "partnerworks-gtac"
MAX_TEXT = 20000


def registry() -> ChecklistRegistry:
    return current_app.extensions["checklists"]


def triage():
    """The triage seam: which suggestions need a ruling, and whether rulings are valid."""
    return current_app.extensions["triage"]


def current_definition() -> ChecklistDefinition:
    definition = registry().current(CHECKLIST_NAME, now().date())
    if definition is None:
        raise RuntimeError(f"no version of checklist {CHECKLIST_NAME!r} is in force")
    return definition


def definition_for(case: Case) -> ChecklistDefinition:
    definition = registry().get(case.checklist_name, case.checklist_version)
    if definition is None:
        raise RuntimeError(f"case {case.id} pins {case.checklist_name} v{case.checklist_version}, "
                           "which is not among the published checklists")
    return definition


# What the evaluation reads of a case's attachments: not the rows (a scanned log's findings
# run to hundreds of kB, each row joins its uploader), only whether the findings show a crash
# (Attachment.shows_crash); with when each was scanned, which names its findings for triage.
_ATTACHMENTS = (sa.select(Attachment.id, Attachment.kind, Attachment.findings["crash_signatures"].label("crash"),
                          Attachment.scanned_at)
                .where(Attachment.case_id == sa.bindparam("case_id")).order_by(Attachment.id))
_RESPONSES = (sa.select(ChecklistResponse.item_code, ChecklistResponse.value, ChecklistResponse.not_applicable,
                        ChecklistResponse.reason)
              .where(ChecklistResponse.case_id == sa.bindparam("case_id")))


def attachment_facts(case: Case) -> list[sa.Row]:
    """What the evaluation reads of every attachment of the case (id, kind, crash, scanned_at), oldest first."""
    return db.session.execute(_ATTACHMENTS, {"case_id": case.id}).all()


def scanned(facts: list[sa.Row]) -> list[tuple[int, str]]:
    """The scanned attachments among attachment_facts(), as triage names their findings
    (app.triage.findings.scanned_attachments)."""
    return [(fact.id, fact.scanned_at.isoformat()) for fact in facts if fact.scanned_at is not None]


def evaluate_case(case: Case, responses: dict[str, RecordedResponse] | None = None,
                  needing_ruling: list[str] | None = None, attachments: list[sa.Row] | None = None) -> Evaluation:
    """The case's checklist as it stands, inside the caller's transaction.

    `responses`, `needing_ruling` (triage's findings) and `attachments` (attachment_facts) when the caller
    has already read them.
    """
    if responses is None:  # only what the evaluation reads of them
        views = {code: ResponseView(value, not_applicable, reason) for code, value, not_applicable, reason
                 in db.session.execute(_RESPONSES, {"case_id": case.id})}
    else:
        views = {code: ResponseView(r.value, r.not_applicable, r.reason) for code, r in responses.items()}
    if attachments is None:
        attachments = attachment_facts(case)
    if needing_ruling is None:  # the findings of the scanned attachments just read: one query serves both
        needing_ruling = triage().suggestions_needing_ruling(case, scanned(attachments))
    facts = CaseFacts(product_family=case.product.family, severity=case.severity.value,
                      hardware_issue=case.hardware_issue,
                      crash=case.crash_reported or any(bool(fact.crash) for fact in attachments))
    return evaluate(definition_for(case), facts, views,
                    {fact.id: fact.kind.value for fact in attachments}, needing_ruling)


@dataclass(frozen=True)
class RecordedResponse:
    """A recorded answer as pages and the API read it (ChecklistResponse's fields, read as plain columns)."""

    item_code: str
    value: Any
    not_applicable: bool
    reason: str | None
    responded_at: datetime
    responded_by: Person


_RECORDED = (sa.select(ChecklistResponse.item_code, ChecklistResponse.value, ChecklistResponse.not_applicable,
                       ChecklistResponse.reason, ChecklistResponse.responded_at, User.name)
             .join(User, User.id == ChecklistResponse.responded_by_id)
             .where(ChecklistResponse.case_id == sa.bindparam("case_id")))


def responses_for(case: Case) -> dict[str, RecordedResponse]:
    """The case's recorded answers by item code, for reading: a page shows a dozen, each with who gave it."""
    return {code: RecordedResponse(code, value, not_applicable, reason, at, Person(name))
            for code, value, not_applicable, reason, at, name in db.session.execute(_RECORDED, {"case_id": case.id})}


@dataclass(frozen=True)
class ChecklistView:
    evaluation: Evaluation
    responses: dict[str, RecordedResponse]
    suggestions: list[str]


def get_checklist(actor: User, case_id: int) -> ChecklistView:
    with unit_of_work():
        case = access.get_case(actor, case_id)
        access.require(actor, "checklist.read")
        return checklist_of(case)


def checklist_of(case: Case, needing_ruling: list[str] | None = None,
                 attachments: list[sa.Row] | None = None) -> ChecklistView:
    """Inside the caller's transaction, once the case is known visible; `needing_ruling` and `attachments`
    (attachment_facts) if already known."""
    responses = responses_for(case)
    if attachments is None:
        attachments = attachment_facts(case)
    if needing_ruling is None:  # named by the attachments just read: one query serves both
        needing_ruling = triage().suggestions_needing_ruling(case, scanned(attachments))
    return ChecklistView(evaluate_case(case, responses, needing_ruling, attachments), responses, needing_ruling)


def record_response(actor: User, case_id: int, code: str, body: dict[str, Any]) -> RecordedAnswer:
    """Record the answer to one item; the value must fit the item's kind."""
    with unit_of_work() as uow:
        case = _open_case_for_answers(actor, case_id)
        item = definition_for(case).item(code)
        if item is None:
            raise NotFound(f"The checklist of this case has no item {code!r}.", code="checklist_item_not_found")
        response = _response(uow, case, code)
        return _write(uow, actor, case, item, response, _validated(uow, item, case, body, actor))


def record_responses(actor: User, case_id: int, answers: dict[str, dict[str, Any]],
                     refused: dict[str, str] | None = None) -> list[str]:
    """Record the answers to several items together: all of them, or none.

    `answers` maps item codes to the bodies record_response takes; `refused` names the items whose
    posted form could not even be read as an answer, with why. An answer equal to the one on record
    is left alone (nothing is written or audited for it). When any item is refused, nothing is
    written and ChecklistAnswersRefused lists every refused item. Returns the codes written.
    """
    with unit_of_work() as uow:
        case = _open_case_for_answers(actor, case_id)
        definition = definition_for(case)
        errors: dict[str, dict[str, str]] = {code: {"code": "invalid_input", "message": message}
                                             for code, message in (refused or {}).items()}
        planned = []
        for code, body in answers.items():
            item = definition.item(code)
            if item is None:
                errors[code] = {"code": "checklist_item_not_found",
                                "message": f"The checklist of this case has no item {code!r}."}
                continue
            response = _response(uow, case, code)
            if _same_answer(item, response, body):
                continue
            try:
                planned.append((item, response, _validated(uow, item, case, body, actor)))
            except (InvalidInput, RuleViolation) as exc:
                errors[code] = {"code": exc.code, "message": exc.message}
        if errors:
            # Raising rolls back whatever validation touched (triage's rulings) with the rest.
            raise ChecklistAnswersRefused(errors)
        for item, response, validated in planned:
            _write(uow, actor, case, item, response, validated)
        return [item.code for item, _, _ in planned]


class ChecklistAnswersRefused(InvalidInput):
    """Some of the answers sent together were refused, so none was written."""

    code = "checklist_answers_refused"

    def __init__(self, errors: dict[str, dict[str, str]]):
        count = len(errors)
        super().__init__(f"Nothing was saved: {count} answer{'' if count == 1 else 's'} need{'s' if count == 1 else ''}"
                         " a change first (see the item" + ("" if count == 1 else "s") + " marked below).",
                         details={"items": errors})
        self.errors = errors


def _open_case_for_answers(actor: User, case_id: int) -> Case:
    case = access.get_case(actor, case_id, for_update=True)
    access.require(actor, "checklist.respond")
    if case.status is not CaseStatus.OPEN:
        raise Conflict("The checklist is closed once the case has left the open state.",
                       code="checklist_locked", details={"status": case.status.value})
    return case


# One item's answer and its writes, as plain statements: answers are the most frequent write on a
# case's way to an SR (one per item), and the ORM's flush of the row and of the case cost more than
# the statements themselves. The UPDATEs take the columns they set from their parameters.
_RESPONSE_OF_ITEM = sa.select(ChecklistResponse.id, ChecklistResponse.value, ChecklistResponse.not_applicable,
                              ChecklistResponse.reason).where(ChecklistResponse.case_id == sa.bindparam("case_id"),
                                                              ChecklistResponse.item_code == sa.bindparam("code"))
_INSERT_RESPONSE = sa.insert(ChecklistResponse.__table__)
_UPDATE_RESPONSE = (sa.update(ChecklistResponse.__table__)
                    .where(ChecklistResponse.__table__.c.id == sa.bindparam("response_id")))
_TOUCH_CASE = sa.update(Case.__table__).where(Case.__table__.c.id == sa.bindparam("case_id"))


@dataclass(frozen=True)
class RecordedAnswer:
    """An item's answer as just recorded (ItemResponseSchema's fields)."""

    value: Any
    not_applicable: bool
    reason: str | None
    responded_at: datetime
    responded_by: User


def _response(uow: UnitOfWork, case: Case, code: str) -> sa.Row | None:
    """The item's answer on record (id, value, not_applicable, reason), if any."""
    return uow.session.connection().execute(_RESPONSE_OF_ITEM, {"case_id": case.id, "code": code}).one_or_none()


def _write(uow: UnitOfWork, actor: User, case: Case, item: ItemDefinition, response: sa.Row | None,
           validated: tuple[Any, bool, str | None]) -> RecordedAnswer:
    value, not_applicable, reason = validated
    at = now()
    answer = {"value": value, "not_applicable": not_applicable, "reason": reason}
    connection = uow.session.connection()
    if response is None:
        connection.execute(_INSERT_RESPONSE, {"case_id": case.id, "item_code": item.code, **answer,
                                              "responded_by_id": actor.id, "responded_at": at})
    else:
        connection.execute(_UPDATE_RESPONSE, {"response_id": response.id, **answer,
                                              "responded_by_id": actor.id, "responded_at": at})
    connection.execute(_TOUCH_CASE, {"case_id": case.id, "updated_at": at})
    set_committed_value(case, "updated_at", at)
    record(actor, "case", case.id, "checklist.responded",
           before={"item": item.code, **_as_dict(response)} if response else None,
           after={"item": item.code, **answer})
    return RecordedAnswer(value, not_applicable, reason, at, actor)


def _same_answer(item: ItemDefinition, response: sa.Row | None, body: dict[str, Any]) -> bool:
    """Whether `body` says what the item's recorded answer already says (a form sent back untouched)."""
    if response is None:
        return False
    reason = body.get("reason")
    reason = reason.strip() if isinstance(reason, str) else None
    if body.get("not_applicable"):
        return response.not_applicable and "value" not in body and reason == response.reason
    if response.not_applicable or "value" not in body:
        return False
    value, stored = body["value"], response.value
    if item.kind == "attachments":
        ids = value.get("attachment_ids") if isinstance(value, dict) else None
        return (isinstance(ids, list) and all(is_record_id(i) for i in ids) and isinstance(stored, dict)
                and sorted(set(ids)) == stored.get("attachment_ids"))
    if item.kind == "triage_ruling" and isinstance(value, dict) and isinstance(stored, dict):
        rulings = value.get("rulings")
        if not isinstance(rulings, list) or not all(isinstance(r, dict) and set(r) == {"anomaly_id", "ruling"}
                                                    for r in rulings):
            return False
        posted = {str(r["anomaly_id"]): r["ruling"] for r in rulings}
        return len(posted) == len(rulings) and posted == {r["anomaly_id"]: r["ruling"] for r in stored["rulings"]}
    return type(value) is type(stored) and value == stored and reason == response.reason


def _as_dict(response) -> dict[str, Any]:
    return {"value": response.value, "not_applicable": response.not_applicable, "reason": response.reason}


def _validated(uow: UnitOfWork, item: ItemDefinition, case: Case, body: dict[str, Any], actor: User
               ) -> tuple[Any, bool, str | None]:
    has_value = "value" in body
    if body.get("not_applicable"):
        if has_value:
            raise InvalidInput("Send either a value or not_applicable with a reason, not both.",
                               code="invalid_response")
        if not item.allow_not_applicable:
            raise RuleViolation(f"{item_label(item.code)} cannot be marked not applicable.",
                                code="not_applicable_not_allowed", details={"item": item.code})
        reason = (body.get("reason") or "").strip()
        if len(reason) < 10:
            raise InvalidInput("Say in at least 10 characters why the item does not apply.",
                               code="reason_required", details={"item": item.code})
        return None, True, reason
    if not has_value:
        raise InvalidInput("Send {\"value\": ...} or {\"not_applicable\": true, \"reason\": ...}.",
                           code="invalid_response")
    value, reason = body["value"], body.get("reason")
    if item.kind != "choice" and reason is not None:
        raise InvalidInput("A reason goes only with not_applicable or a choice.", code="invalid_response")
    return _check_value(uow, item, case, value, actor), False, (reason.strip() if isinstance(reason, str) else None)


def _bad(item: ItemDefinition, expected: str) -> InvalidInput:
    return InvalidInput(f"{item_label(item.code)}, of kind {item.kind}, takes {expected}.",
                        code="invalid_value",
                        details={"item": item.code, "kind": item.kind})


def _check_value(uow: UnitOfWork, item: ItemDefinition, case: Case, value: Any, actor: User) -> Any:
    if item.kind == "attestation":
        if value is not True:
            raise _bad(item, "true")
        return True
    if item.kind == "text":
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise _bad(item, f"a string of at most {MAX_TEXT} characters")
        return value
    if item.kind == "choice":
        if value not in item.options:
            raise _bad(item, "one of " + ", ".join(item.options))
        return value
    if item.kind == "attachments":
        return _check_attachments(item, case, value)
    if item.kind == "triage_ruling":
        return _check_rulings(uow, item, case, value, actor)
    raise ValueError(item.kind)


def _check_attachments(item: ItemDefinition, case: Case, value: Any) -> dict:
    ids = value.get("attachment_ids") if isinstance(value, dict) and set(value) == {"attachment_ids"} else None
    if not isinstance(ids, list) or not all(is_record_id(i) for i in ids):
        raise _bad(item, f'{{"attachment_ids": [ids from 1 to {MAX_ID}]}}')
    kinds = dict(db.session.execute(sa.select(Attachment.id, Attachment.kind).where(
        Attachment.case_id == case.id, Attachment.id.in_(ids))).all())
    unknown = [i for i in ids if i not in kinds]
    if unknown:
        raise RuleViolation("These attachments are not on this case.", code="attachment_not_found",
                            details={"attachment_ids": unknown})
    wrong = [i for i in ids if kinds[i].value not in item.attachment_kinds]
    if wrong:
        raise RuleViolation(f"{item_label(item.code)} takes attachments of kind "
                            + " or ".join(item.attachment_kinds) + ".",
                            code="attachment_kind_not_allowed", details={"attachment_ids": wrong})
    return {"attachment_ids": sorted(set(ids))}


def _check_rulings(uow: UnitOfWork, item: ItemDefinition, case: Case, value: Any, actor: User) -> Any:
    if value is True:
        if triage().suggestions_needing_ruling(case):
            raise RuleViolation("Known anomalies are suggested for this case: rule on each of them.",
                                code="rulings_required", details={"item": item.code})
        return True
    rulings = value.get("rulings") if isinstance(value, dict) and set(value) == {"rulings"} else None
    if not isinstance(rulings, list) or not all(
            isinstance(r, dict) and set(r) == {"anomaly_id", "ruling"}
            and isinstance(r["anomaly_id"], (str, int)) and not isinstance(r["anomaly_id"], bool)
            and r["ruling"] in ("matches", "not_relevant") for r in rulings):
        raise _bad(item, 'true, or {"rulings": [{"anomaly_id": ..., "ruling": "matches" | "not_relevant"}]}')
    triage().validate_rulings(case, rulings)
    # Triage keeps the rulings too: they drive the upgrade advice and what GTAC sees on the SR.
    triage().record_rulings(uow, actor, case, rulings)
    return {"rulings": [{"anomaly_id": str(r["anomaly_id"]), "ruling": r["ruling"]} for r in rulings]}


def migrate_open_cases(to_version: int, case_ids: list[int] | None = None) -> int:
    """Move open cases to another published version on purpose (audited); returns how many moved."""
    target = registry().get(CHECKLIST_NAME, to_version)
    if target is None:
        raise RuleViolation(f"{CHECKLIST_NAME} v{to_version} is not published.", code="checklist_version_unknown")
    with unit_of_work() as uow:
        query = sa.select(Case).where(Case.status == CaseStatus.OPEN, Case.checklist_version != to_version)
        if case_ids:
            query = query.where(Case.id.in_(case_ids))
        moved = 0
        for case in uow.session.scalars(query):
            record(None, "case", case.id, "checklist.migrated",
                   before={"checklist": case.checklist_name, "version": case.checklist_version},
                   after={"checklist": target.name, "version": target.version})
            case.checklist_name, case.checklist_version = target.name, target.version
            moved += 1
        return moved
