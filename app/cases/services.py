"""Use cases of support cases: open, list, read, and the message thread."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.audit.models import AuditEvent
from app.audit.services import record, trail
from app.cases.models import Case, CaseStatus, Channel, Message, Severity
from app.db import transaction
from app.errors import RuleViolation
from app.outbox.services import emit
from app.pagination import DEFAULT_LIMIT, Page, paginate

AUDITED_FIELDS = ("status", "severity", "title", "software_version", "serial_number",
                  "hardware_issue", "scope_what", "scope_when", "scope_how")


def snapshot(case: Case) -> dict[str, Any]:
    """The audited fields of a case as plain JSON values."""
    values = {}
    for name in AUDITED_FIELDS:
        value = getattr(case, name)
        values[name] = value.value if hasattr(value, "value") else value
    return values


def open_case(actor: User, data: dict[str, Any]) -> Case:
    """Open a case on a serial the caller's contracts cover; the customer follows from it."""
    access.require(actor, "case.open")
    with transaction() as session:
        covered = access.covered_serial(actor, data["serial_number"])
        if covered is None:
            raise RuleViolation(
                "This serial number is not covered by a service contract of yours.",
                code="serial_not_covered", details={"serial_number": data["serial_number"]})
        customer = covered.contract.customer
        case = Case(
            partner_id=customer.partner_id, customer_id=customer.id, opened_by_id=actor.id,
            product_id=covered.product_id, serial_number=covered.serial_number,
            software_version=data["software_version"], severity=Severity(data["severity"]),
            status=CaseStatus.OPEN, title=data["title"].strip(), description=data["description"],
            hardware_issue=data.get("hardware_issue", False),
            scope_what=data.get("scope_what"), scope_when=data.get("scope_when"),
            scope_how=data.get("scope_how"),
        )
        session.add(case)
        session.flush()
        record(actor, "case", case.id, "case.opened", after=snapshot(case))
        emit("notify.case_opened", {"case_id": case.id})
        return case


def list_cases(actor: User, *, status: str | None = None, severity: str | None = None,
               q: str | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Case]:
    access.require(actor, "case.list")
    query = access.visible_cases(actor)
    if status:
        query = query.where(Case.status == CaseStatus(status))
    if severity:
        query = query.where(Case.severity == Severity(severity))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(Case.title.ilike(pattern, escape="\\"),
                                   Case.serial_number.ilike(pattern, escape="\\")))
    with transaction() as session:
        return paginate(session, query, Case.id, limit, cursor)


def get_case(actor: User, case_id: int) -> Case:
    with transaction():
        return access.get_case(actor, case_id)


def case_audit_trail(actor: User, case_id: int) -> list[AuditEvent]:
    with transaction():
        access.get_case(actor, case_id)
        access.require(actor, "case.audit.read")
        return trail("case", case_id)


def post_message(actor: User, case_id: int, channel: str, body: str) -> Message:
    with transaction() as session:
        case = access.get_case(actor, case_id)
        access.require_channel_write(actor, case, Channel(channel))
        message = Message(case_id=case.id, channel=Channel(channel), author_id=actor.id, body=body)
        session.add(message)
        session.flush()
        record(actor, "case", case.id, "message.posted",
               after={"message_id": message.id, "channel": channel})
        emit("notify.message_posted", {"case_id": case.id, "message_id": message.id})
        return message


def list_messages(actor: User, case_id: int, channel: str | None = None) -> list[Message]:
    """The thread the caller may read, oldest first, optionally one channel."""
    with transaction() as session:
        access.get_case(actor, case_id)
        if channel:
            access.require_channel_read(actor, Channel(channel))
            channels = [Channel(channel)]
        else:
            channels = access.readable_channels(actor)
        query = (sa.select(Message)
                 .where(Message.case_id == case_id, Message.channel.in_(channels))
                 .order_by(Message.id))
        return list(session.scalars(query))
