"""Use cases of support cases: open, list, read, and the message thread."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app import access
from app.audit.models import AuditEvent
from app.audit.reading import AuditLine, readable_trail
from app.audit.services import record, trail
from app.cases.models import Case, CaseStatus, Channel, Message, Severity
from app.checklists import services as checklists
from app.checklists.evaluation import Evaluation
from app.checklists.models import ChecklistResponse
from app.accounts.models import Organisation, Person, User
from app.contracts.models import CoveredSerial, Product
from app.db import stored_text
from app.uow import unit_of_work
from app.extensions import db
from app.errors import InvalidInput, RuleViolation
from app.pagination import DEFAULT_LIMIT, Page, decode_cursor, keyset_page, newest_first
from app.srs import progress
from app.srs import services as sr_services

AUDITED_FIELDS = ("status", "severity", "title", "software_version", "serial_number",
                  "hardware_issue", "crash_reported", "checklist_name", "checklist_version")
SCOPE_FIELDS = ("scope_what", "scope_when", "scope_how")


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
    with unit_of_work() as uow:
        covered = access.covered_serial(actor, data["serial_number"])
        if covered is None:
            raise RuleViolation(
                "This serial number is not covered by a service contract of yours.",
                code="serial_not_covered", details={"serial_number": data["serial_number"]})
        customer = covered.contract.customer
        if customer.partner.suspended:
            raise RuleViolation(
                f"{customer.partner.name} is suspended by the vendor: no case can be opened with it until it is reinstated.",
                code="partner_suspended", details={"partner": customer.partner.name})
        checklist = checklists.current_definition()
        case = Case(
            partner_id=customer.partner_id, customer_id=customer.id, opened_by_id=actor.id,
            product_id=covered.product_id, serial_number=covered.serial_number,
            software_version=data["software_version"], severity=Severity(data["severity"]),
            status=CaseStatus.OPEN, title=data["title"].strip(), description=data["description"],
            hardware_issue=data.get("hardware_issue", False), crash_reported=data.get("crash", False),
            checklist_name=checklist.name, checklist_version=checklist.version,
        )
        # Already loaded with the coverage: no reload when the answer is rendered.
        case.customer, case.product = customer, covered.product
        uow.session.add(case)
        uow.session.flush()
        record(actor, "case", case.id, "case.opened", after=snapshot(case))
        # The scope may come with the case; it is kept as the answers to the scope items.
        for code in SCOPE_FIELDS:
            if data.get(code) and checklist.item(code):
                uow.session.add(ChecklistResponse(case_id=case.id, item_code=code, value=data[code],
                                              responded_by_id=actor.id))
        uow.emit("notify.case_opened", {"case_id": case.id})
        return case


def change_severity(actor: User, case_id: int, severity: str) -> "CaseDetail":
    """The partner re-rates its own open case, audited; the case as it now stands. Once escalated, the
    severity that counts is the SR's, which GTAC sets; a resolved or closed case keeps the one it had."""
    access.require(actor, "case.severity")
    try:
        new = Severity(severity)
    except ValueError:
        raise InvalidInput("Choose a severity from S1 to S4.", code="invalid_input",
                           details={"fields": {"severity": ["One of S1, S2, S3, S4."]}}) from None
    with unit_of_work():
        case = access.get_case(actor, case_id, for_update=True)
        if case.status is not CaseStatus.OPEN:
            raise RuleViolation(
                f"The case is {case.status.value}: its severity no longer changes here."
                + (" Ask GTAC on the SR to change the SR's severity." if case.status is CaseStatus.ESCALATED else ""),
                code="case_not_open", details={"status": case.status.value})
        if new is not case.severity:  # the same severity again records nothing
            before = snapshot(case)
            case.severity = new
            record(actor, "case", case.id, "case.severity_changed", before=before, after=snapshot(case))
        return detail_of(actor, case)


# What a case list row holds: CaseSummarySchema's fields, read as plain columns (the API's and the pages' list).
_ROWS = (sa.select(Case.id, stored_text(Case.status, "status"), stored_text(Case.severity, "severity"), Case.title,
                   Case.serial_number, Case.software_version, Product.family, Product.model,
                   Product.name.label("product_name"), Case.customer_id, Organisation.name.label("customer_name"),
                   Case.created_at, Case.updated_at)
         .join(Product, Product.id == Case.product_id)
         .join(Organisation, Organisation.id == Case.customer_id))


def list_cases(actor: User, *, status: str | None = None, severity: str | None = None,
               q: str | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[sa.Row]:
    """The cases the caller may see, newest first, as plain rows (_ROWS): the API's busiest read, without
    building an entity per case."""
    access.require(actor, "case.list")
    scope, parameters = access.parameterised_case_scope(actor)
    filters = {name: value for name, value in (("status", status and CaseStatus(status)),
                                               ("severity", severity and Severity(severity)),
                                               ("q_pattern", q and _containing(q))) if value}
    parameters.update(filters, page_rows=limit + 1)
    if cursor:
        parameters["before_id"] = decode_cursor(cursor)
    statement = _row_page(scope, frozenset(filters), resumed=cursor is not None)
    with unit_of_work() as uow:
        return keyset_page(uow.session.execute(statement, parameters).all(), limit)


# The list's filters on named parameters: a statement holds which filters are given, their values come with
# each execution. A missing value is an error, never a default.
_PATTERN = sa.bindparam("q_pattern", type_=sa.String(), required=True)
_ROW_FILTERS = {
    "status": Case.status == sa.bindparam("status", type_=Case.status.type, required=True),
    "severity": Case.severity == sa.bindparam("severity", type_=Case.severity.type, required=True),
    "q_pattern": sa.or_(Case.title.ilike(_PATTERN, escape="\\"), Case.serial_number.ilike(_PATTERN, escape="\\")),
}


@functools.cache
def _row_page(scope: sa.ColumnElement[bool], given: frozenset[str], *, resumed: bool) -> sa.Select:
    """The statement of a list page for one kind of user (access.parameterised_case_scope) and one shape of
    filters, built once: on a statement built afresh SQLAlchemy derives its cache key again on every
    request."""
    conditions = [scope, *(condition for name, condition in _ROW_FILTERS.items() if name in given)]
    if resumed:
        conditions.append(Case.id < sa.bindparam("before_id", type_=sa.Integer(), required=True))
    return newest_first(_ROWS, sa.select(Case.id).where(*conditions), Case.id,
                        sa.bindparam("page_rows", type_=sa.Integer(), required=True))


def _containing(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its wildcards taken literally (escape character \\)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass
class CaseDetail:
    """One case as its page and API show it."""

    case: Case
    sr_number: str | None
    scope: dict[str, str | None]
    checklist: dict[str, Any] | None

    def __getattr__(self, name: str) -> Any:
        # Reads of plain case attributes (title, status...) go to the case itself.
        return getattr(self.case, name)


def get_case(actor: User, case_id: int) -> CaseDetail:
    with unit_of_work():
        return _detail(actor, case_id)


def _detail(actor: User, case_id: int) -> CaseDetail:
    return detail_of(actor, access.get_case(actor, case_id))


def detail_of(actor: User, case: Case, evaluation: Evaluation | None = None,
              responses: dict[str, checklists.RecordedResponse] | None = None) -> CaseDetail:
    """Inside the caller's transaction, once the case is known visible; what the caller has already read
    of its checklist (`evaluation`, `responses`) is not read again."""
    if responses is None:
        responses = checklists.responses_for(case)
    summary = None
    if access.allowed(actor, "checklist.read"):
        evaluation = evaluation or checklists.evaluate_case(case)
        summary = {"checklist": case.checklist_name, "version": case.checklist_version,
                   "complete": evaluation.complete, "unmet": [r.item.code for r in evaluation.unmet]}
    scope = {code.removeprefix("scope_"): responses[code].value if code in responses else None
             for code in SCOPE_FIELDS} if access.allowed(actor, "checklist.read") else None
    service_request = case.service_request
    return CaseDetail(case, service_request.number if service_request else None, scope, summary)


@dataclass(frozen=True)
class ThreadMessage:
    """One message of a case's thread as its page shows it (Message's fields, read as plain columns)."""

    id: int
    channel: Channel
    body: str
    created_at: datetime
    author: Person


@dataclass
class CasePage:
    """Everything one case page shows, read in one transaction."""

    detail: CaseDetail
    messages: list[ThreadMessage]
    audit: list[AuditLine] | None
    writable_channels: list[Channel]


def case_page(actor: User, case_id: int) -> CasePage:
    with unit_of_work():
        return page_of(actor, access.get_case(actor, case_id))


def page_of(actor: User, case: Case, evaluation: Evaluation | None = None,
            responses: dict[str, checklists.RecordedResponse] | None = None) -> CasePage:
    """Inside the caller's transaction, once the case is known visible."""
    messages = _thread_messages(case.id, access.readable_channels(actor))
    audit = (readable_trail("case", case.id, {item.code: item.title for item in checklists.definition_for(case).items})
             if access.allowed(actor, "case.audit.read") else None)
    return CasePage(detail_of(actor, case, evaluation, responses), messages, audit,
                    access.writable_channels(actor))


def covered_serials(actor: User) -> list[CoveredSerial]:
    """The serials the caller may open a case on, for pickers."""
    with unit_of_work() as uow:
        query = access.covered_serials_query(actor).order_by(CoveredSerial.serial_number)
        return list(uow.session.scalars(query))


def case_audit_trail(actor: User, case_id: int) -> list[AuditEvent]:
    with unit_of_work():
        access.get_case(actor, case_id)
        access.require(actor, "case.audit.read")
        return trail("case", case_id)


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise InvalidInput(f"Unknown channel {value!r}: use internal, customer or gtac.",
                           code="invalid_channel") from None


def post_message(actor: User, case_id: int, channel: str, body: str) -> Message:
    with unit_of_work() as uow:
        case = access.get_case(actor, case_id)
        access.require_channel_write(actor, case, _channel(channel))
        if _channel(channel) is Channel.GTAC and case.service_request is not None:
            # The GTAC channel is the SR's thread: GTAC's posts count as updates on the SR clock
            # and a partner's answer hands an SR awaiting it back to GTAC.
            return sr_services.post_on_thread(uow, actor, case.service_request.number, body)
        message = Message(case_id=case.id, channel=Channel(channel), author_id=actor.id, body=body)
        uow.session.add(message)
        uow.session.flush()
        record(actor, "case", case.id, "message.posted",
               after={"message_id": message.id, "channel": channel})
        uow.emit("notify.message_posted", {"case_id": case.id, "message_id": message.id})
        if message.channel is Channel.CUSTOMER:
            progress.announce_relayed(uow, case.id)  # the customer's progress page shows the thread
        return message


def list_messages(actor: User, case_id: int, channel: str | None = None) -> list[Message]:
    """The thread the caller may read, oldest first, optionally one channel."""
    with unit_of_work():
        return _thread(actor, case_id, channel)


def _thread(actor: User, case_id: int, channel: str | None = None) -> list[Message]:
    access.get_case(actor, case_id)
    if channel:
        access.require_channel_read(actor, _channel(channel))
        channels = [Channel(channel)]
    else:
        channels = access.readable_channels(actor)
    return _messages(case_id, channels)


def _messages(case_id: int, channels: list[Channel]) -> list[Message]:
    query = (sa.select(Message)
             .where(Message.case_id == case_id, Message.channel.in_(channels))
             .order_by(Message.id))
    return list(db.session.scalars(query))


_THREAD = (sa.select(Message.id, Message.channel, Message.body, Message.created_at, User.name)
           .join(User, User.id == Message.author_id)
           .where(Message.case_id == sa.bindparam("case_id"), Message.channel.in_(sa.bindparam("channels", expanding=True)))
           .order_by(Message.id))


def _thread_messages(case_id: int, channels: list[Channel]) -> list[ThreadMessage]:
    """_messages() for the page: plain rows, each with its author's name."""
    return [ThreadMessage(message_id, channel, body, created_at, Person(name)) for message_id, channel, body, created_at, name
            in db.session.execute(_THREAD, {"case_id": case_id, "channels": channels})]
