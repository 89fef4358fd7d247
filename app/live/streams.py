"""Serving a live stream as server-sent events, with no database session held while it runs.

A stream holds one server thread for up to SR_EVENTS_MAX_SECONDS, so serve with
threads to spare (gunicorn --worker-class gthread); with several workers or
machines, set REDIS_URL so that every stream hears every change.
"""
from __future__ import annotations

from typing import Any, Iterable

from flask import Response, current_app

from app.extensions import db
from app.live import events
from app.uow import LIVE_BROKER


def subscribe(channels: tuple[str, ...]):
    """Listen on these channels; subscribe before reading a backlog, so nothing falls in between."""
    return current_app.extensions[LIVE_BROKER].subscribe(channels)


def respond(subscription, backlog: Iterable[dict[str, Any]] = (), last_id: int = 0) -> Response:
    """text/event-stream: the backlog, then live events from the subscription, until the stream's time is up."""
    # The stream outlives the request's session; give its connection (and SQLite's lock) back now.
    db.session.remove()
    body = events.stream(subscription, backlog, last_id,
                         heartbeat=current_app.config["SR_EVENTS_HEARTBEAT_SECONDS"],
                         max_seconds=current_app.config["SR_EVENTS_MAX_SECONDS"])
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def feed_stream(channel: str) -> Response:
    """Live events of many SRs (a queue page, a partner's list): no backlog, pages re-read on reconnect."""
    return respond(subscribe((channel,)))
