"""Opening an SR's event stream: check access, subscribe, read the backlog, then stream without a session.

A stream holds one server thread for up to SR_EVENTS_MAX_SECONDS, so serve with
threads to spare (gunicorn --worker-class gthread --threads 64, say); with
several workers or machines, set REDIS_URL so that every stream hears every change.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, current_app, request

from app import access
from app.accounts.models import User
from app.db import transaction
from app.errors import InvalidInput
from app.extensions import db
from app.srs import events, services
from app.srs.models import SRHistory


def _last_event_id(after: int | None) -> int | None:
    raw = request.headers.get("Last-Event-ID")
    if raw is None:
        return after
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("Last-Event-ID must be an event id this stream sent.", code="invalid_last_event_id")
    return int(raw)


def event_stream(actor: User, number: str, after: int | None = None) -> Response:
    """text/event-stream of one SR's timeline: what came after Last-Event-ID (or `after`), then live."""
    last_id = _last_event_id(after)
    with transaction() as session:
        sr = access.get_sr(actor, number)
        access.require(actor, "sr.read")
        sr_id = sr.id
        if last_id is None:  # a fresh stream starts from now
            last_id = session.scalar(sa.select(sa.func.max(SRHistory.id)).where(SRHistory.sr_id == sr_id)) or 0
    broker = current_app.extensions["sr_broker"]
    # Subscribe before reading the backlog: an event committed in between is in one or the other.
    subscription = broker.subscribe((events.sr_channel(sr_id),))
    try:
        _, backlog = services.history(actor, number, after_id=last_id)
    except BaseException:
        subscription.close()
        raise
    # The stream outlives the request's session; give its connection (and SQLite's lock) back now.
    db.session.remove()
    body = events.stream(subscription, backlog, last_id,
                         heartbeat=current_app.config["SR_EVENTS_HEARTBEAT_SECONDS"],
                         max_seconds=current_app.config["SR_EVENTS_MAX_SECONDS"])
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def feed_stream(channel: str) -> Response:
    """Live events of many SRs (a queue page, a partner's list): no backlog, pages re-read on reconnect."""
    subscription = current_app.extensions["sr_broker"].subscribe((channel,))
    db.session.remove()
    body = events.stream(subscription, [], 0, heartbeat=current_app.config["SR_EVENTS_HEARTBEAT_SECONDS"],
                         max_seconds=current_app.config["SR_EVENTS_MAX_SECONDS"])
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
