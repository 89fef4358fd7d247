"""Escalating a case to GTAC: every rule of SPEC §5 at once, then one SR, exactly once."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app import access
from app.accounts.models import Certification, PartnerTier, User
from app.audit.services import record
from app.cases.models import Case, CaseStatus, Channel, Message, Severity
from app.checklists.services import evaluate_case
from app.clock import now
from app.contracts.models import CoveredSerial, ServiceContract
from app.db import transaction
from app.errors import Conflict, RuleViolation
from app.escalation.models import IdempotencyRecord, ServiceRequest
from app.escalation.numbers import next_sr_number
from app.extensions import db
from app.outbox.services import emit

IDEMPOTENCY_TTL = timedelta(hours=48)  # SPEC asks for at least 24 h


def request_fingerprint(case_id: int, body: dict[str, Any]) -> str:
    canonical = json.dumps({"case_id": case_id, "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def refusal_reasons(actor: User, case: Case) -> list[dict[str, Any]]:
    """Every reason this escalation is refused (empty when it may go ahead)."""
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
    family = case.product.family
    certification = db.session.scalars(sa.select(Certification).where(
        Certification.user_id == actor.id, Certification.product_family == family)).one_or_none()
    if certification is None:
        reasons.append({"code": "certification_missing", "product_family": family,
                        "message": f"You hold no certification for {family}."})
    elif certification.expires_on < today:
        reasons.append({"code": "certification_expired", "product_family": family,
                        "expired_on": certification.expires_on.isoformat(),
                        "message": f"Your {family} certification expired on {certification.expires_on}."})
    entitled = db.session.scalar(
        sa.select(sa.func.count()).select_from(CoveredSerial)
        .join(ServiceContract, CoveredSerial.contract_id == ServiceContract.id)
        .where(CoveredSerial.serial_number == case.serial_number,
               ServiceContract.customer_id == case.customer_id,
               ServiceContract.starts_on <= today, ServiceContract.ends_on >= today))
    if not entitled:
        reasons.append({"code": "not_entitled", "serial_number": case.serial_number,
                        "message": f"No active service contract of {case.customer.name} covers "
                                   f"serial {case.serial_number}."})
    for result in evaluate_case(case).unmet:
        reasons.append({"code": "checklist_item_unmet", "item": result.item.code,
                        "reason": result.reason, "message": f"{result.item.title}: {result.message}"})
    return reasons


def escalate(actor: User, case_id: int, body: dict[str, Any], idempotency_key: str | None
             ) -> tuple[dict[str, Any], bool]:
    """Escalate a case; returns (the SR answer, created now?).

    The case row is locked for the whole decision, so concurrent escalations of
    one case are serialised; the unique SR-per-case constraint backs that up.
    """
    fingerprint = request_fingerprint(case_id, body)
    try:
        with transaction() as session:
            case = access.get_case(actor, case_id, for_update=True)
            access.require(actor, "case.escalate")
            if idempotency_key:
                previous = session.scalars(sa.select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == actor.id, IdempotencyRecord.key == idempotency_key,
                    IdempotencyRecord.created_at >= now() - IDEMPOTENCY_TTL)).one_or_none()
                if previous is not None:
                    if previous.request_hash != fingerprint:
                        raise Conflict("This Idempotency-Key was already used for another request.",
                                       code="idempotency_key_reused")
                    return previous.response, False
            existing = case.service_request
            if case.status is not CaseStatus.OPEN or existing is not None:
                raise Conflict("The case has already been escalated." if existing else
                               f"A {case.status.value} case cannot be escalated.",
                               code="already_escalated" if existing else "case_not_open",
                               details={"sr_number": existing.number} if existing else {})
            reasons = refusal_reasons(actor, case)
            if reasons:
                raise RuleViolation("The case cannot be escalated yet.", code="escalation_refused",
                                    details={"reasons": reasons})
            service_request = _open_service_request(session, actor, case)
            if body.get("note"):
                session.add(Message(case_id=case.id, channel=Channel.GTAC, author_id=actor.id,
                                    body=body["note"]))
            answer = sr_answer(service_request)
            if idempotency_key:
                session.execute(sa.delete(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == actor.id, IdempotencyRecord.key == idempotency_key))
                session.add(IdempotencyRecord(user_id=actor.id, key=idempotency_key,
                                              request_hash=fingerprint, status_code=201, response=answer))
            return answer, True
    except IntegrityError:
        # Lost a race the row lock could not prevent (SQLite, or the same key on two cases).
        db.session.rollback()
        raise Conflict("Another escalation of this case or with this Idempotency-Key won the race; "
                       "retry to see its result.", code="escalation_conflict") from None


def _open_service_request(session, actor: User, case: Case) -> ServiceRequest:
    at = now()
    routing = current_app.extensions["routing"]
    sla = current_app.extensions["sla_targets"]
    severity = case.severity.value
    service_request = ServiceRequest(
        number=next_sr_number(session), case_id=case.id, partner_id=case.partner_id,
        severity=case.severity, product_family=case.product.family, region=case.partner.region,
        queue=routing.queue_for(case.product.family, severity, case.partner.region, at),
        escalated_by_id=actor.id, created_at=at,
        response_due_at=at + sla.initial_response[severity],
        update_due_at=at + sla.update_cadence[severity],
    )
    session.add(service_request)
    before_status = case.status.value
    case.status, case.escalated_at, case.updated_at = CaseStatus.ESCALATED, at, at
    session.flush()
    record(actor, "case", case.id, "case.escalated", before={"status": before_status},
           after={"status": case.status.value, "sr_number": service_request.number,
                  "queue": service_request.queue})
    emit("notify.sr_created", {"sr_id": service_request.id})
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


def purge_idempotency_records() -> int:
    """Forget idempotency keys older than the retention window; returns how many."""
    with transaction() as session:
        result = session.execute(sa.delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < now() - IDEMPOTENCY_TTL))
        return result.rowcount or 0
