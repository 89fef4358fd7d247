"""An SR's SLA clocks, planned from its timeline and stored on the SR for SQL to filter and sort."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.srs.models import ServiceRequest
from app.srs import sla
from app.srs.models import HistoryKind, SRHistory
from app.srs.policy import clock_policy
from app.srs.workflow import MOVES_BY_NAME, ClockEffect


def policy_for(sr: ServiceRequest) -> sla.Policy:
    """The targets, calendars and near-breach point that apply to this SR."""
    return clock_policy(current_app.extensions["sla_targets"], current_app.extensions["sr_calendars"],
                        sr.region, current_app.config["SR_NEAR_BREACH_PERCENT"])


def clock_events(rows: list[SRHistory]) -> list[sla.ClockEvent]:
    """What each timeline row did to the clocks, in order."""
    events: list[sla.ClockEvent] = []
    for row in rows:
        if row.kind is HistoryKind.STATUS and row.move in MOVES_BY_NAME:
            events.extend(sla.ClockEvent(row.at, effect.value) for effect in MOVES_BY_NAME[row.move].clock)
        elif row.kind is HistoryKind.SEVERITY:
            events.append(sla.ClockEvent(row.at, "severity", row.data["to"]))
        elif row.kind is HistoryKind.MESSAGE and row.data.get("side") == "gtac":
            events.extend([sla.ClockEvent(row.at, ClockEffect.RESPOND.value),
                           sla.ClockEvent(row.at, ClockEffect.UPDATE.value)])
        # A file GTAC adds (HistoryKind.ATTACHMENT) is neither a response nor an update: the partner is
        # owed words on where the SR stands, and a file says nothing of that by itself. Counting it would
        # let any upload, even a wrong one, quiet the update clock; GTAC sends the file with a message.
    return events


def timeline(session: Session, sr_id: int) -> list[SRHistory]:
    return list(session.scalars(sa.select(SRHistory).where(SRHistory.sr_id == sr_id).order_by(SRHistory.id)))


def compute(session: Session, sr: ServiceRequest) -> sla.Plan:
    """The SR's clocks from its whole timeline (a few rows to a few hundred)."""
    rows = timeline(session, sr.id)
    severity_changes = [row for row in rows if row.kind is HistoryKind.SEVERITY]
    opened_severity = severity_changes[0].data["from"] if severity_changes else sr.severity.value
    return sla.plan(sr.created_at, opened_severity, clock_events(rows), policy_for(sr))


def store(sr: ServiceRequest, plan: sla.Plan) -> None:
    """Keep the plan on the SR. The due columns keep their last planned value while a clock waits."""
    sr.sla_due_at = plan.due_at
    sr.sla_warn_at = plan.warn_at
    if plan.response.due_at is not None:
        sr.response_due_at = plan.response.due_at
    if plan.update.due_at is not None:
        sr.update_due_at = plan.update.due_at
    sr.responded_at = plan.response.met_at


def replan(session: Session, sr: ServiceRequest) -> tuple[sla.Plan, datetime | None]:
    """Re-plan after a change; returns the plan and the due time it replaced, if any."""
    session.flush()
    previous_due = sr.sla_due_at
    plan = compute(session, sr)
    store(sr, plan)
    return plan, previous_due
