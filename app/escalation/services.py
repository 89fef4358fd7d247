"""Escalating a case to GTAC: every rule of SPEC §5 at once, then one SR, exactly once."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app import access
from app.accounts.models import Certification, PartnerTier, User
from app.audit.services import record
from app.cases.models import Case, CaseStatus, Channel, Message, Severity
from app.checklists.evaluation import Evaluation
from app.checklists.numbering import number_of
from app.checklists.services import evaluate_case
from app.clock import now
from app.contracts.models import CoveredSerial, ServiceContract
from app.uow import UnitOfWork, unit_of_work
from app.errors import Conflict, RuleViolation
from app.idempotency import services as idempotency
from app.srs import opening
from app.srs.models import ServiceRequest
from app.extensions import db


# The caller's certification for the case's product family and the case's entitlement, asked together
# (one statement, built once): when the latest certification expires, None without one (families keep
# their vendor spelling; a certification names one in any case), and whether an active contract of the
# case's customer covers its serial today.
_STANDING = sa.select(
    sa.select(Certification.expires_on)
    .where(Certification.user_id == sa.bindparam("user_id"),
           sa.func.lower(Certification.product_family) == sa.bindparam("family"))
    .order_by(Certification.expires_on.desc()).limit(1).scalar_subquery(),
    sa.exists().where(CoveredSerial.contract_id == ServiceContract.id,
                      CoveredSerial.serial_number == sa.bindparam("serial_number"),
                      ServiceContract.customer_id == sa.bindparam("customer_id"),
                      ServiceContract.starts_on <= sa.bindparam("today"),
                      ServiceContract.ends_on >= sa.bindparam("today")))


def refusal_reasons(actor: User, case: Case, evaluation: Evaluation | None = None) -> list[dict[str, Any]]:
    """Every reason this escalation is refused (empty when it may go ahead).

    `evaluation`: the case's checklist as the caller has already evaluated it in this transaction.
    """
    reasons: list[dict[str, Any]] = []
    today = now().date()
    partner = case.partner
    if partner.tier is not PartnerTier.PWP:
        pw_s1 = current_app.config["PW_MAY_ESCALATE_S1"]
        if not (pw_s1 and case.severity is Severity.S1):
            reasons.append({
                "code": "partner_tier",
                "message": ("PartnerWorks partners may escalate S1 cases only."
                            if pw_s1 else "Only PartnerWorks Plus partners may escalate."),
            })
    if partner.suspended:
        reasons.append({"code": "partner_suspended",
                        "message": f"{partner.name} is suspended by the vendor: it cannot escalate until reinstated."})
    family = case.product.family
    certified_until, entitled = db.session.execute(_STANDING, {
        "user_id": actor.id, "family": family.lower(), "serial_number": case.serial_number,
        "customer_id": case.customer_id, "today": today}).one()
    if certified_until is None:
        reasons.append({"code": "certification_missing", "product_family": family,
                        "message": f"You hold no certification for {family}."})
    elif certified_until < today:
        reasons.append({"code": "certification_expired", "product_family": family,
                        "expired_on": certified_until.isoformat(),
                        "message": f"Your {family} certification expired on {certified_until}."})
    if not entitled:
        reasons.append({"code": "not_entitled", "serial_number": case.serial_number,
                        "message": f"No active service contract of {case.customer.name} covers "
                                   f"serial {case.serial_number}."})
    for result in (evaluation or evaluate_case(case)).unmet:
        reasons.append({"code": "checklist_item_unmet", "item": result.item.code,
                        "number": number_of(result.item.code),
                        "reason": result.reason, "message": f"{result.item.title}: {result.message}"})
    return reasons


def escalate(actor: User, case_id: int, body: dict[str, Any], idempotency_key: str | None
             ) -> tuple[dict[str, Any], bool]:
    """Escalate a case; returns (the SR answer, created now?).

    The case row is locked for the whole decision, so concurrent escalations of
    one case are serialised; the unique SR-per-case constraint backs that up.
    """
    request_hash = idempotency.fingerprint(case_id, body)
    try:
        with unit_of_work() as uow:
            case = access.get_case(actor, case_id, for_update=True)
            access.require(actor, "case.escalate")
            if idempotency_key:
                previous = idempotency.replay(uow, actor.id, idempotency_key, request_hash)
                if previous is not None:
                    return previous, False
            # An SR is opened only with the escalation that stamps escalated_at (app.srs.opening),
            # so a case never escalated has none: no need to look for it.
            existing = case.service_request if case.escalated_at is not None else None
            if case.status is not CaseStatus.OPEN or existing is not None:
                raise Conflict("The case has already been escalated." if existing else
                               f"A {case.status.value} case cannot be escalated.",
                               code="already_escalated" if existing else "case_not_open",
                               details={"sr_number": existing.number} if existing else {})
            reasons = refusal_reasons(actor, case)
            if reasons:
                raise RuleViolation("The case cannot be escalated yet.", code="escalation_refused",
                                    details={"reasons": reasons})
            service_request = _escalate(uow, actor, case)
            if body.get("note"):
                uow.session.add(Message(case_id=case.id, channel=Channel.GTAC, author_id=actor.id, body=body["note"]))
            answer = sr_answer(service_request)
            if idempotency_key:
                idempotency.remember(uow, actor.id, idempotency_key, request_hash, 201, answer)
            return answer, True
    except IntegrityError:
        # Lost a race the row lock could not prevent (SQLite, or the same key on two cases).
        raise Conflict("Another escalation of this case or with this Idempotency-Key won the race; "
                       "retry to see its result.", code="escalation_conflict") from None


def _escalate(uow: UnitOfWork, actor: User, case: Case) -> ServiceRequest:
    """Open the SR in the queue the routing rules name, and mark the case escalated."""
    at = now()
    queue = current_app.extensions["routing"].queue_for(case.product.family, case.severity.value,
                                                        case.partner.region, at)
    service_request = opening.open_service_request(uow, case, actor, queue)
    before_status = case.status.value
    case.status, case.escalated_at, case.updated_at = CaseStatus.ESCALATED, at, at
    record(actor, "case", case.id, "case.escalated", before={"status": before_status},
           after={"status": case.status.value, "sr_number": service_request.number, "queue": service_request.queue})
    uow.emit("notify.sr_created", {"sr_id": service_request.id})
    return service_request


def sr_answer(service_request: ServiceRequest) -> dict[str, Any]:
    """The escalation answer; stored as-is for idempotent replays."""
    return {
        "id": service_request.id, "sr_number": service_request.number,
        "case_id": service_request.case_id, "status": service_request.status.value,
        "severity": service_request.severity.value, "queue": service_request.queue,
        "product_family": service_request.product_family, "region": service_request.region,
        "created_at": service_request.created_at.isoformat(),
        "response_due_at": service_request.response_due_at.isoformat(),
        "update_due_at": service_request.update_due_at.isoformat(),
    }
