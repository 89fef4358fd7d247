"""What the customer sees of its case's escalation: the SR number and customer-safe stages.

The customer never reads GTAC's thread, notes, engineers or files. Its case's
progress is told in four stages, each with the moment it was reached: opened,
with GTAC, solution provided, closed. A reopened SR goes back to "with GTAC".
What the partner tells the customer is the case's customer thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.cases.models import Case, CaseStatus, Channel, Message
from app.srs.models import HistoryKind, SRHistory
from app.uow import unit_of_work

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
    def current(self) -> str:
        return self.stages[-1].name


def case_progress(actor: User, case_id: int) -> CaseProgress:
    """The customer's view of one of its cases' progress; another customer's case is not found."""
    with unit_of_work() as uow:
        case = access.get_case(actor, case_id)
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


def _reach(stages: list[Stage], name: str, at: datetime) -> None:
    if stages[-1].name != name:
        stages.append(Stage(name, at))
