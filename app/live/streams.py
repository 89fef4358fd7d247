"""Serving a live stream as server-sent events, with no database session held while it runs.

A stream holds one server thread for up to SR_EVENTS_MAX_SECONDS, so each takes
a slot (app.live.limits) first: a user and a process may hold only so many. With
several workers or machines, set REDIS_URL so that every stream hears every change.
"""
from __future__ import annotations

from typing import Any, Iterable

from flask import Response, current_app

from app.extensions import db
from app.live import events
from app.live.limits import Slot, StreamLimiter
from app.uow import LIVE_BROKER

LIMITS = "live_stream_limits"


def make_limiter(config) -> StreamLimiter:
    return StreamLimiter(config["SR_EVENTS_MAX_PER_USER"], config["SR_EVENTS_MAX_PER_PROCESS"],
                         config["SR_EVENTS_MAX_SECONDS"], config["REDIS_URL"])


def take_slot(user_id: int) -> Slot:
    """A slot for one more stream of this user (429 or 503 when none is free): before anything else."""
    return current_app.extensions[LIMITS].acquire(user_id)


def subscribe(channels: tuple[str, ...]):
    """Listen on these channels; subscribe before reading a backlog, so nothing falls in between."""
    return current_app.extensions[LIVE_BROKER].subscribe(channels)


def respond(slot: Slot, subscription, backlog: Iterable[dict[str, Any]] = (), last_id: int | None = 0) -> Response:
    """text/event-stream: the backlog, then live events from the subscription, until the stream's time is up.

    The slot is given back when the stream ends, however it ends (its time is up, the client went away).
    """
    # The stream outlives the request's session; give its connection (and SQLite's lock) back now.
    db.session.remove()
    body = events.stream(subscription, backlog, last_id,
                         heartbeat=current_app.config["SR_EVENTS_HEARTBEAT_SECONDS"],
                         max_seconds=current_app.config["SR_EVENTS_MAX_SECONDS"], on_close=slot.release)
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def feed_stream(user_id: int, channel: str) -> Response:
    """Live events of many things (an SR queue page, the payments pages), from the moment it connects:
    no backlog.

    What changed before it connected is the caller's to send first (app.srs.streams.feed_stream, for
    an SR page's first connection) or the page's to read again (srs-live.js and payments-live.js, on
    each reconnection).
    """
    slot = take_slot(user_id)
    try:
        return respond(slot, subscribe((channel,)), last_id=None)
    except BaseException:
        slot.release()
        raise
