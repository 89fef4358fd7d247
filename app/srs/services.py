"""Use cases of GTAC's work on an SR: each one transaction, audited, re-planning the SLA clocks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app import access
from app.accounts.models import GTAC_ROLES, User
from app.audit.services import record
from app.cases.models import Channel, Message, Severity
from app.clock import now
from app.uow import UnitOfWork, unit_of_work
from app.errors import Conflict, InvalidInput, RuleViolation
from app.srs.models import ServiceRequest, SRStatus
from app.srs import alerts, clocks, timeline, workflow
from app.srs.timeline import snapshot
from app.rma.models import RMA, RMAStatus
from app.srs.models import HistoryKind, ManagementEscalation, SRHistory, SRSolution
from app.srs.sla import Plan
from app.srs.workflow import SolutionKind


def _lock(uow: UnitOfWork, actor: User, number: str) -> ServiceRequest:
    sr = access.get_sr(actor, number, for_update=True)
    # Alerts the current plan owes are recorded before the change re-plans it away.
    alerts.catch_up(uow, sr, now())
    return sr


def _gtac_user(uow: UnitOfWork, user_id: int) -> User:
    user = uow.session.get(User, user_id)
    if user is None or user.role not in GTAC_ROLES or not user.active:
        raise RuleViolation("SRs are assigned to active GTAC engineers and managers only.",
                            code="not_gtac_staff", details={"assignee_id": user_id})
    return user


def reopen_window() -> timedelta:
    return timedelta(hours=current_app.config["SR_REOPEN_WINDOW_HOURS"])


def transition(actor: User, number: str, to: str, *, note: str | None = None,
               solution: dict[str, Any] | None = None, assignee_id: int | None = None) -> ServiceRequest:
    """Move an SR to another state: 409 when SPEC §6 has no such move, 403 when the caller may not."""
    with unit_of_work() as uow:
        sr = _lock(uow, actor, number)
        source = sr.status.value
        move = workflow.move_between(source, to)
        if move is None:
            raise Conflict(f"An SR in state {source} cannot move to {to}.", code="illegal_transition",
                           details={"from": source, "to": to, "allowed": workflow.legal_targets(source)})
        access.require_sr_move(actor, sr, move.name)
        at = now()
        before = snapshot(sr)
        data: dict[str, Any] = {}
        if assignee_id is not None and move.name != "take":
            raise InvalidInput("assignee_id goes with a move to 'assigned' only.", code="invalid_input",
                               details={"fields": {"assignee_id": ["Only when taking an SR."]}})
        if (solution is not None) != move.needs_solution:
            raise InvalidInput("A solution goes with the move to 'solution_provided', and only with it.",
                               code="invalid_input",
                               details={"fields": {"solution": ["Required for solution_provided, else not allowed."]}})
        if move.name == "take":
            if assignee_id is not None and assignee_id != actor.id:
                access.require(actor, "sr.assign")
                assignee = _gtac_user(uow, assignee_id)
            else:
                assignee = actor
            sr.assignee_id = assignee.id
            data["assignee"] = {"id": assignee.id, "name": assignee.name}
        if move.windowed:
            left_work_at = sr.closed_at if sr.status is SRStatus.CLOSED else sr.solution_provided_at
            if not workflow.within_window(left_work_at, at, reopen_window()):
                raise RuleViolation("The reopen window of this SR has passed; open a new case.",
                                    code="reopen_window_passed",
                                    details={"window_hours": current_app.config["SR_REOPEN_WINDOW_HOURS"]})
            sr.reopen_count += 1
            sr.closed_at = sr.solution_provided_at = None
        if move.needs_solution:
            data["solution"] = _record_solution(uow, sr, actor, solution)
        sr.status = SRStatus(move.target)
        sr.paused_at = at if move.target == workflow.AWAITING_PARTNER else None
        if move.target == workflow.SOLUTION_PROVIDED:
            sr.solution_provided_at = at
        if move.target == workflow.CLOSED:
            sr.closed_at = at
        timeline.write(uow, sr, actor, HistoryKind.STATUS, move=move.name, from_status=source,
                       to_status=move.target, note=note, data=data, audit=(f"sr.{move.name}", before))
        return sr


def _record_solution(uow: UnitOfWork, sr: ServiceRequest, actor: User, solution: dict[str, Any]) -> dict:
    kind = SolutionKind(solution["kind"])
    rma_id = None
    if kind is SolutionKind.RMA:
        rma = uow.session.scalars(sa.select(RMA).where(
            RMA.sr_id == sr.id, RMA.status.in_([RMAStatus.APPROVED, RMAStatus.SHIPPED, RMAStatus.RECEIVED]))
            .order_by(RMA.id.desc())).first()
        if rma is None:
            raise RuleViolation("An RMA solution needs an RMA that GTAC has approved for this SR.",
                                code="rma_not_approved")
        rma_id = rma.id
    entry = SRSolution(sr_id=sr.id, kind=kind, content=solution["content"], rma_id=rma_id,
                       provided_by_id=actor.id, provided_at=now())
    uow.session.add(entry)
    uow.session.flush()
    return {"id": entry.id, "kind": kind.value, "content": entry.content,
            "rma_number": entry.rma.number if entry.rma else None}


def assign(actor: User, number: str, assignee_id: int, note: str | None = None) -> ServiceRequest:
    """A manager gives an open SR to a GTAC engineer (a new SR becomes assigned)."""
    with unit_of_work() as uow:
        sr = _lock(uow, actor, number)
        access.require(actor, "sr.assign")
        if sr.status.value not in workflow.OPEN_STATES:
            raise Conflict(f"A {sr.status.value} SR is not assigned any more.", code="sr_not_open",
                           details={"status": sr.status.value})
        assignee = _gtac_user(uow, assignee_id)
        if sr.assignee_id == assignee.id:
            return sr
        before = snapshot(sr)
        previous = sr.assignee
        sr.assignee_id = assignee.id
        data = {"assignee": {"id": assignee.id, "name": assignee.name},
                "previous": {"id": previous.id, "name": previous.name} if previous else None}
        if sr.status is SRStatus.NEW:
            sr.status = SRStatus.ASSIGNED
            timeline.write(uow, sr, actor, HistoryKind.STATUS, move="take", from_status=workflow.NEW,
                           to_status=workflow.ASSIGNED, note=note, data=data, audit=("sr.assigned", before))
        else:
            timeline.write(uow, sr, actor, HistoryKind.ASSIGNMENT, note=note, data=data,
                           audit=("sr.assigned", before))
        return sr


# Whom a manager can give an SR to, and whom GTAC's queue page offers as its engineer filter.
_STAFF = (sa.select(User.id, User.name, User.role).where(User.role.in_(list(GTAC_ROLES)), User.active)
          .order_by(User.name, User.id))


def staff_of(uow: UnitOfWork) -> list[sa.Row]:
    """The active GTAC engineers and managers by name (id, name, role), inside the caller's unit, once
    the caller is known to be GTAC (app/srs/page.py)."""
    return list(uow.session.execute(_STAFF))


def change_severity(actor: User, number: str, severity: str, note: str | None = None) -> ServiceRequest:
    """GTAC re-rates an open SR; its clocks are re-planned (see app/srs/sla.py)."""
    with unit_of_work() as uow:
        sr = _lock(uow, actor, number)
        access.require(actor, "sr.severity")
        if sr.status.value not in workflow.OPEN_STATES:
            raise Conflict("Only an open SR changes severity.", code="sr_not_open",
                           details={"status": sr.status.value})
        new = Severity(severity)
        if new is sr.severity:
            return sr
        before = snapshot(sr)
        data = {"from": sr.severity.value, "to": new.value}
        sr.severity = new
        timeline.write(uow, sr, actor, HistoryKind.SEVERITY, note=note, data=data,
                       audit=("sr.severity_changed", before))
        return sr


def post_message(actor: User, number: str, body: str) -> Message:
    """A message on the SR's partner<->GTAC thread. GTAC's count as updates; a partner's
    answer to an SR awaiting it hands the SR back to GTAC."""
    with unit_of_work() as uow:
        return post_on_thread(uow, actor, number, body)


def post_on_thread(uow: UnitOfWork, actor: User, number: str, body: str) -> Message:
    """post_message() inside the caller's unit (the case thread's GTAC channel is the SR's thread)."""
    sr = _lock(uow, actor, number)
    access.require(actor, "sr.message")
    if sr.status is SRStatus.CLOSED:
        raise Conflict("The SR is closed; reopen it to write again.", code="sr_closed")
    message = Message(case_id=sr.case_id, channel=Channel.GTAC, author_id=actor.id, body=body, created_at=now())
    uow.session.add(message)
    uow.session.flush()
    before = snapshot(sr)
    side = "gtac" if actor.role in GTAC_ROLES else "partner"
    record(actor, "case", sr.case_id, "message.posted", after={"message_id": message.id, "channel": "gtac"})
    timeline.write(uow, sr, actor, HistoryKind.MESSAGE, data={"message_id": message.id, "side": side, "body": body},
                   audit=("sr.message_posted", before))
    if side == "partner" and sr.status is SRStatus.AWAITING_PARTNER:
        before = snapshot(sr)
        sr.status, sr.paused_at = SRStatus.IN_PROGRESS, None
        timeline.write(uow, sr, actor, HistoryKind.STATUS, move="resume", from_status=workflow.AWAITING_PARTNER,
                       to_status=workflow.IN_PROGRESS, note="The partner answered.", audit=("sr.resume", before))
    return message


def request_management_escalation(actor: User, number: str, level: int, reason: str) -> ManagementEscalation:
    """The partner raises an open SR to GTAC management, one level at a time or more (1 to 3)."""
    with unit_of_work() as uow:
        sr = _lock(uow, actor, number)
        access.require(actor, "sr.management_escalation")
        if sr.status.value not in workflow.OPEN_STATES:
            raise Conflict("Only an open SR can be escalated to management.", code="sr_not_open",
                           details={"status": sr.status.value})
        if level <= sr.management_level:
            raise Conflict(f"The SR is already at management level {sr.management_level}.",
                           code="already_at_level", details={"level": sr.management_level})
        before = snapshot(sr)
        escalation = ManagementEscalation(sr_id=sr.id, level=level, reason=reason, requested_by_id=actor.id,
                                          requested_at=now())
        uow.session.add(escalation)
        sr.management_level = level
        timeline.write(uow, sr, actor, HistoryKind.MANAGEMENT_ESCALATION, note=reason,
                       data={"from": before["management_level"], "level": level},
                       audit=("sr.management_escalated", before))
        return escalation


@dataclass
class SRDetail:
    sr: ServiceRequest
    plan: Plan
    breached: bool
    allowed_transitions: list[str]
    solutions: list[SRSolution]
    management_escalations: list[ManagementEscalation]
    rmas: list[RMA]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sr, name)


def allowed_targets(actor: User, sr: ServiceRequest) -> list[str]:
    """The states this caller may move this SR to now (for pages and integrations)."""
    return [target for target in workflow.legal_targets(sr.status.value)
            if access.may_move_sr(actor, sr, workflow.move_between(sr.status.value, target).name)]


def get_sr(actor: User, number: str) -> SRDetail:
    """One SR with its clocks as of now, solutions, management escalations and RMAs."""
    with unit_of_work() as uow:
        sr = access.get_sr(actor, number)
        access.require(actor, "sr.read")
        return detail_of(uow, actor, sr)


def detail_of(uow: UnitOfWork, actor: User, sr: ServiceRequest) -> SRDetail:
    """get_sr() inside the caller's unit, once the SR is known visible to the caller."""
    plan = clocks.compute(uow.session, sr)
    at = now()
    solutions = list(uow.session.scalars(sa.select(SRSolution).where(SRSolution.sr_id == sr.id)
                                     .order_by(SRSolution.id)))
    escalations = list(uow.session.scalars(sa.select(ManagementEscalation)
                                       .where(ManagementEscalation.sr_id == sr.id)
                                       .order_by(ManagementEscalation.level)))
    # The RMAs' products with them: a page drawn after the commit reads nothing more.
    rmas = list(uow.session.scalars(sa.select(RMA).where(RMA.sr_id == sr.id).order_by(RMA.id)
                                    .options(sa.orm.selectinload(RMA.items))))
    return SRDetail(sr, plan, plan.breached(at), allowed_targets(actor, sr), solutions, escalations, rmas)


def history(actor: User, number: str, after_id: int = 0, limit: int = 500) -> tuple[ServiceRequest, list[dict]]:
    """The SR's timeline after `after_id`, oldest first, as live events carry it."""
    with unit_of_work() as uow:
        sr = access.get_sr(actor, number)
        access.require(actor, "sr.read")
        return sr, history_of(uow, sr, after_id, limit)


def history_of(uow: UnitOfWork, sr: ServiceRequest, after_id: int = 0, limit: int = 500,
               up_to: int | None = None) -> list[dict]:
    """history() inside the caller's unit, once the SR is known visible to the caller; `up_to`: no entry
    after that one."""
    query = sa.select(SRHistory).where(SRHistory.sr_id == sr.id, SRHistory.id > after_id)
    if up_to is not None:
        query = query.where(SRHistory.id <= up_to)
    rows = uow.session.scalars(query.order_by(SRHistory.id).limit(limit))
    return [timeline.event_payload(sr, row) for row in rows]


# What a page's feed sends first (feed_backlog): the entries of the newest FEED_WINDOW of every SR's
# timeline (the primary key's order, so the scan stays small at any size) written since the page read
# its rows. An entry's time is taken before its unit commits: FEED_SLACK reaches back for units that
# were still open then.
FEED_WINDOW = 1000
FEED_SLACK = timedelta(seconds=10)


def feed_backlog(actor: User, since: datetime) -> list[dict]:
    """The entries the caller's feed carries (every SR for GTAC, a partner's own SRs) written since
    `since`, oldest first, each with its SR as it is now, as live events carry them, and marked
    `replayed`: the page may already show it."""
    access.require(actor, "sr.list")
    # The window first (materialised on PostgreSQL), whatever the planner guesses of a partner's SRs.
    recent = (sa.select(SRHistory.id, SRHistory.at).order_by(SRHistory.id.desc()).limit(FEED_WINDOW)
              .cte("recent").prefix_with("MATERIALIZED", dialect="postgresql"))
    query = (sa.select(SRHistory, ServiceRequest).join(recent, recent.c.id == SRHistory.id)
             .join(ServiceRequest, ServiceRequest.id == SRHistory.sr_id)
             .where(recent.c.at >= since - FEED_SLACK, access.sr_scope(actor))
             .order_by(SRHistory.id)
             # The payload names the assignee, never who escalated (joined by default).
             .options(sa.orm.selectinload(ServiceRequest.assignee), sa.orm.lazyload(ServiceRequest.escalated_by)))
    with unit_of_work() as uow:
        return [{**timeline.event_payload(sr, row), "replayed": True} for row, sr in uow.session.execute(query)]
