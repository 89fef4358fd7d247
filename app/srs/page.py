"""Everything one SR page shows, read in one transaction.

The page shows the SR and its clocks, the case it came from, the partner's
checklist answers, triage's findings and possible duplicates, the thread, the
files, the timeline, and the controls the caller's role may use. Read through
each feature's own use case that was eight transactions and as many visibility
checks; here the SR is read and checked once and each part is built from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.attachments.models import Attachment
from app.attachments.services import case_attachments
from app.cases.models import Case, Channel, Message
from app.checklists import services as checklists
from app.checklists.numbering import number_of
from app.errors import InvalidInput, NotFound
from app.pagination import Page
from app.srs import queries, services
from app.srs.services import SRDetail
from app.triage.services import TriageReport, report_of
from app.uow import unit_of_work


@dataclass(frozen=True)
class ChecklistAnswer:
    """One item of the partner's checklist as GTAC reads it: never a form."""

    number: int | None  # the vendor's number (SPEC §4.2), shared by the items of one point
    code: str
    title: str
    kind: str
    applies: bool
    met: bool
    message: str
    response: Any  # the stored ChecklistResponse, or None when not answered


@dataclass
class SRPage:
    detail: SRDetail
    case: Case
    case_visible: bool  # whether the caller may open the case's own page
    checklist: list[ChecklistAnswer] | None
    triage: TriageReport | None
    thread: list[Message]
    timeline: list[dict]
    attachments: list[Attachment]
    staff: list[sa.Row] | None  # whom the caller may give the SR to (id, name, role)


def sr_page(actor: User, number: str) -> SRPage:
    with unit_of_work() as uow:
        # With its newest entry: the timeline stops there, as the SR's fields do, and the page's stream
        # replays what came after (an entry written while the page is read is told, not lost).
        sr = access.get_sr(actor, number, newest_entry=True)
        access.require(actor, "sr.read")
        case = sr.case
        try:
            access.get_case(actor, case.id)
            case_visible = True
        except NotFound:
            case_visible = False
        triage = report_of(actor, case) if case_visible and access.allowed(actor, "triage.read") else None
        checklist = None
        if case_visible and access.allowed(actor, "checklist.read"):
            view = checklists.checklist_of(case, triage.needs_ruling if triage else None)
            checklist = [ChecklistAnswer(number_of(r.item.code), r.item.code, r.item.title, r.item.kind, r.applies,
                                         r.met, r.message, view.responses.get(r.item.code))
                         for r in view.evaluation.results]
        access.require_channel_read(actor, Channel.GTAC)
        thread = list(uow.session.scalars(sa.select(Message).where(
            Message.case_id == case.id, Message.channel == Channel.GTAC).order_by(Message.id)))
        return SRPage(
            detail=services.detail_of(uow, actor, sr), case=case, case_visible=case_visible,
            checklist=checklist, triage=triage, thread=thread,
            timeline=services.history_of(uow, sr, up_to=sr.newest_entry_id or 0),
            attachments=case_attachments(actor, case.id),
            staff=services.staff_of(uow) if access.allowed(actor, "sr.assign") else None)


@dataclass
class QueuePage:
    page: Page[sa.Row]
    colleagues: list[sa.Row] | None  # GTAC: the others its engineer filter offers besides the caller (id, name, role)


def queue_page(actor: User, **wanted) -> QueuePage:
    """The SR list page: the list and, for GTAC, the colleagues its engineer filter offers, read in one
    transaction."""
    with unit_of_work() as uow:
        colleagues = None
        if access.allowed(actor, "sr.queue"):
            colleagues = [person for person in services.staff_of(uow) if person.id != actor.id]
            # A list filtered on someone the filter does not offer would look like an engineer with no SRs.
            if wanted.get("assignee_id") not in (None, actor.id, *(person.id for person in colleagues)):
                raise InvalidInput("Not one of the GTAC engineers the list offers.", code="assignee_not_offered",
                                   details={"fields": {"assignee_id": ["Not a valid choice."]}})
        return QueuePage(queries.read_srs(uow, actor, **wanted), colleagues)
