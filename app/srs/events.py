"""Live SR events: what a change publishes after its commit, and the server-sent-events stream.

A change appends a row to the SR's timeline (sr_history) and queues the row's
event on the session; once the transaction commits, the event is published to
the SR's channel, its partner's channel and GTAC's channel. A stream replays
the timeline after the client's Last-Event-ID from the database and then
forwards live events, so a reconnecting page misses nothing even if a
publication was lost.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Iterable, Iterator

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.escalation.models import ServiceRequest
from app.srs.models import SRHistory

log = logging.getLogger(__name__)

PENDING_KEY = "sr_live_events"


def sr_channel(sr_id: int) -> str:
    return f"sr:{sr_id}"


def partner_channel(partner_id: int) -> str:
    return f"partner:{partner_id}"


GTAC_CHANNEL = "gtac"


def event_payload(sr: ServiceRequest, row: SRHistory) -> dict[str, Any]:
    """The event of one timeline row, as streams send it and pages render it."""
    return {
        "id": row.id,
        "sr_number": sr.number,
        "kind": row.kind.value,
        "move": row.move,
        "from": row.from_status,
        "to": row.to_status,
        "status": sr.status.value,
        "severity": sr.severity.value,
        "queue": sr.queue,
        "assignee": sr.assignee.name if sr.assignee else None,
        "sla_due_at": sr.sla_due_at.isoformat() if sr.sla_due_at else None,
        "management_level": sr.management_level,
        "note": row.note,
        "data": row.data or {},
        "actor": row.actor.name if row.actor else None,
        "at": row.at.isoformat(),
    }


def queue_event(session: Session, sr: ServiceRequest, row: SRHistory) -> None:
    """Publish this timeline row once the current transaction commits (never if it rolls back)."""
    session.flush()
    channels = (sr_channel(sr.id), partner_channel(sr.partner_id), GTAC_CHANNEL)
    session.info.setdefault(PENDING_KEY, []).append((channels, json.dumps(event_payload(sr, row))))


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    broker = current_app.extensions.get("sr_broker")
    if broker is None:
        return
    for channels, message in pending:
        for channel in channels:
            try:
                broker.publish(channel, message)
            except Exception:  # the change is committed; streams catch up from the timeline
                log.exception("sr events: publishing to %s failed", channel)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def sse(event_id: int | None, name: str, data: str) -> str:
    """One server-sent event."""
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {name}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


def stream(subscription, backlog: Iterable[dict[str, Any]], last_id: int, *,
           heartbeat: float, max_seconds: float) -> Iterator[str]:
    """The body of an event stream: the backlog, then live events, with keep-alive comments.

    It holds no database session: the backlog was read before streaming began. After
    `max_seconds` it ends; EventSource reconnects with Last-Event-ID and misses nothing.
    """
    deadline = time.monotonic() + max_seconds
    try:
        yield "retry: 2000\n: connected\n\n"
        for payload in backlog:
            last_id = max(last_id, payload["id"])
            yield sse(payload["id"], payload["kind"], json.dumps(payload))
        while time.monotonic() < deadline:
            message = subscription.get(timeout=min(heartbeat, max(deadline - time.monotonic(), 0.01)))
            if message is None:
                yield ": keep-alive\n\n"
                continue
            payload = json.loads(message)
            if payload["id"] <= last_id:
                continue  # already sent from the backlog
            last_id = payload["id"]
            yield sse(payload["id"], payload["kind"], message)
    finally:
        subscription.close()
