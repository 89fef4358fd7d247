"""What the customer sees of its case's escalation: the SR number and customer-safe stages.

The customer never reads GTAC's thread, notes, engineers or files. Its case's
progress is told in four stages, each with the moment it was reached: opened,
with GTAC, solution provided, closed. A reopened SR goes back to "with GTAC".
What the partner tells the customer is the case's customer thread.

The stages also go live: each SR entry that moves the SR publishes a customer-safe
event (the stage and when, nothing else) on the case's own channel, which the
customer's progress page and case page listen to; a message on the case's customer
thread publishes there a cue to read the thread again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.cases.models import Case, CaseStatus, Channel, Message
from app.srs.models import HistoryKind, ServiceRequest, SRHistory, case_sr_with_newest_entry
from app.uow import UnitOfWork, unit_of_work

OPENED, WITH_GTAC, SOLUTION_PROVIDED, CLOSED = "Opened", "With GTAC", "Solution provided", "Closed"
STAGES = (OPENED, WITH_GTAC, SOLUTION_PROVIDED, CLOSED)
# Every SR state as one of the customer's stages.
STAGE_OF_STATUS = {"new": WITH_GTAC, "assigned": WITH_GTAC, "in_progress": WITH_GTAC,
                   "awaiting_partner": WITH_GTAC, "solution_provided": SOLUTION_PROVIDED, "closed": CLOSED}
STAGE_OF_CASE = {CaseStatus.RESOLVED: SOLUTION_PROVIDED, CaseStatus.CLOSED: CLOSED}


@dataclass(frozen=True)
class Stage:
    name: str
    at: datetime


@dataclass
class CaseProgress:
    case: Case
    sr_number: str | None
    stages: list[Stage]  # oldest first; the last one is where the case is now
    relayed: list[Message]  # the case's customer thread, oldest first

    @property
    def entry_seen(self) -> int:
        """The SR's newest entry as this was read: where the page's live stream picks up."""
        sr = self.case.service_request
        return (sr.newest_entry_id or 0) if sr is not None else 0

    @property
    def current(self) -> str:
        return self.stages[-1].name


def case_progress(actor: User, case_id: int) -> CaseProgress:
    """The customer's view of one of its cases' progress; another customer's case is not found."""
    with unit_of_work() as uow:
        case = access.get_case(actor, case_id, options=(case_sr_with_newest_entry(),))
        access.require(actor, "sr.progress.read")
        access.require_channel_read(actor, Channel.CUSTOMER)
        stages = [Stage(OPENED, case.created_at)]
        sr = case.service_request
        if sr is not None:
            moves = uow.session.execute(sa.select(SRHistory.to_status, SRHistory.at).where(
                SRHistory.sr_id == sr.id, SRHistory.kind.in_([HistoryKind.OPENED, HistoryKind.STATUS]))
                .order_by(SRHistory.id))
            for to_status, at in moves:
                _reach(stages, STAGE_OF_STATUS.get(to_status, WITH_GTAC), at)
        elif case.status in STAGE_OF_CASE:
            _reach(stages, STAGE_OF_CASE[case.status], case.updated_at)
        relayed = list(uow.session.scalars(sa.select(Message).where(
            Message.case_id == case.id, Message.channel == Channel.CUSTOMER).order_by(Message.id)))
        return CaseProgress(case, sr.number if sr else None, stages, relayed)


# The SR entries that tell the customer anything: the SR opened, and its moves.
STAGE_KINDS = (HistoryKind.OPENED, HistoryKind.STATUS)


def case_channel(case_id: int) -> str:
    """The customer-safe live channel of one case (never GTAC's notes, words or people)."""
    return f"progress:case:{case_id}"


def stage_of(sr: ServiceRequest) -> str:
    """The customer's stage of an SR as it stands."""
    return STAGE_OF_STATUS.get(sr.status.value, WITH_GTAC)


def customer_event(sr_number: str, row: SRHistory) -> dict | None:
    """The customer-safe event of one SR entry, or None for an entry the customer is not told of.
    Built from an allow-list: the stage and when, never the entry's note, data or actor."""
    if row.kind not in STAGE_KINDS:
        return None
    return {"id": row.id, "kind": "progress", "sr_number": sr_number,
            "stage": STAGE_OF_STATUS.get(row.to_status or "", WITH_GTAC), "at": row.at.isoformat()}


def announce(uow: UnitOfWork, sr: ServiceRequest, row: SRHistory) -> None:
    """Publish the entry's customer-safe event on the case's channel once the unit commits."""
    event = customer_event(sr.number, row)
    if event is not None:
        uow.publish((case_channel(sr.case_id),), event)


def announce_relayed(uow: UnitOfWork, case_id: int) -> None:
    """Tell the case's customer pages that the partner wrote on the customer thread. The event names
    no message and carries no id: the page reads the thread again, as the customer may."""
    uow.publish((case_channel(case_id),), {"kind": "relayed", "case_id": case_id})


def progress_backlog(actor: User, case_id: int, after_id: int | None) -> tuple[int, list[dict]]:
    """For the customer's live stream: the case (checked as case_progress checks it), the last
    entry id it has seen (the newest when `after_id` is None) and the customer-safe events after it."""
    with unit_of_work() as uow:
        case = access.get_case(actor, case_id)
        access.require(actor, "sr.progress.read")
        access.require_channel_read(actor, Channel.CUSTOMER)
        sr = case.service_request
        if sr is None:
            return after_id or 0, []
        if after_id is None:
            return uow.session.scalar(sa.select(sa.func.max(SRHistory.id)).where(SRHistory.sr_id == sr.id)) or 0, []
        rows = uow.session.scalars(sa.select(SRHistory).where(
            SRHistory.sr_id == sr.id, SRHistory.id > after_id, SRHistory.kind.in_(STAGE_KINDS))
            .order_by(SRHistory.id))
        return after_id, [event for row in rows if (event := customer_event(sr.number, row))]


def _reach(stages: list[Stage], name: str, at: datetime) -> None:
    if stages[-1].name != name:
        stages.append(Stage(name, at))
