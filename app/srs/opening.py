"""Whoever opens an SR (today the escalation service), it starts its clocks and its timeline.

These are mapper hooks so that no path that inserts an SR can forget them: the
clocks on the configured calendars and targets, a first timeline entry that
GTAC's live queue pages receive as soon as the SR is committed, and the
partner's webhooks' `sr.opened` event, written to the outbox in the same
transaction like every other SR event.
"""
from __future__ import annotations

import json

from sqlalchemy import event, insert
from sqlalchemy.orm import object_session

from app.clock import now
from app.escalation.models import ServiceRequest
from app.outbox.models import OutboxEvent
from app.srs import clocks, events, sla
from app.srs.models import HistoryKind, SRHistory


@event.listens_for(ServiceRequest, "before_insert")
def _start_clocks(mapper, connection, sr: ServiceRequest) -> None:
    sr.created_at = sr.created_at or now()
    clocks.store(sr, sla.plan(sr.created_at, sr.severity.value, [], clocks.policy_for(sr)))


@event.listens_for(ServiceRequest, "after_insert")
def _start_timeline(mapper, connection, sr: ServiceRequest) -> None:
    # Inside the flush: the row goes in through the connection, the live event waits for the commit.
    data = {"queue": sr.queue, "severity": sr.severity.value}
    status = sr.status.value if sr.status else "new"
    history_id = connection.execute(insert(SRHistory.__table__).values(
        sr_id=sr.id, at=sr.created_at, actor_id=sr.escalated_by_id, kind=HistoryKind.OPENED,
        to_status=status, data=data).returning(SRHistory.__table__.c.id)).scalar_one()
    session = object_session(sr)
    if session is None:
        return
    _emit_in_flush(connection, session, "webhooks.sr_event", {"history_id": history_id})
    payload = {"id": history_id, "sr_number": sr.number, "kind": HistoryKind.OPENED.value, "move": None,
               "from": None, "to": status, "status": status, "severity": sr.severity.value, "queue": sr.queue,
               "assignee": None, "sla_due_at": sr.sla_due_at.isoformat() if sr.sla_due_at else None,
               "management_level": 0, "note": None, "data": data, "actor": None, "at": sr.created_at.isoformat()}
    channels = (events.sr_channel(sr.id), events.partner_channel(sr.partner_id), events.GTAC_CHANNEL)
    session.info.setdefault(events.PENDING_KEY, []).append((channels, json.dumps(payload)))


def _emit_in_flush(connection, session, topic: str, payload: dict) -> None:
    """What app.outbox.services.emit does, from inside a flush, where the session takes no new objects:
    the event's row goes in through the flush's connection (so it commits or rolls back with the SR),
    and the dispatcher is told of it after the commit like of any other."""
    event_id = connection.execute(insert(OutboxEvent.__table__).values(
        topic=topic, payload=payload, created_at=now(), attempts=0)
        .returning(OutboxEvent.__table__.c.id)).scalar_one()
    # A detached stand-in: app.db.transaction() reads only its id and topic after the commit.
    session.info.setdefault("outbox_events", []).append(OutboxEvent(id=event_id, topic=topic))
