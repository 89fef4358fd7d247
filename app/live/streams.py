"""Serving a live stream as server-sent events, with no database session held while it runs.

A stream holds one server thread for up to SR_EVENTS_MAX_SECONDS, so each takes
a slot (app.live.limits) first: a user and a process may hold only so many. With
several workers or machines, set REDIS_URL so that every stream hears every change.
"""
from __future__ import annotations

import select
import socket
import ssl
from datetime import datetime
from typing import Any, Callable, Iterable

from flask import Response, current_app, request

from app.bounds import utc_time
from app.errors import InvalidInput
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
                         max_seconds=current_app.config["SR_EVENTS_MAX_SECONDS"], on_close=slot.release,
                         gone=reader_gone(request.environ))
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# The peer's end of the connection is gone: hung up, or (Linux) shut down for writing.
_HUNG_UP = select.POLLHUP | select.POLLERR | getattr(select, "POLLRDHUP", 0) if hasattr(select, "poll") else 0


def reader_gone(environ) -> Callable[[], bool]:
    """Whether the client closed the stream's connection, read off its socket without writing to it.

    A page left (another page opened, the tab closed) would otherwise hold its stream, and its user's
    slot, until a heartbeat failed to reach it: a GTAC engineer going through five SRs was refused a
    live page (429) for up to two heartbeats. The reader sends nothing after its request, so a plain
    socket that turns readable with nothing to read has been closed; a TLS socket (TLS ended in
    gunicorn itself) is known closed by the hang-up the kernel reports. Without a socket to look at,
    or without poll(), the heartbeat finds out, as before.
    """
    connection = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(connection, socket.socket) or not hasattr(select, "poll"):
        return lambda: False
    plain = not isinstance(connection, ssl.SSLSocket)
    watch = select.poll()
    watch.register(connection, select.POLLIN | _HUNG_UP)

    def gone() -> bool:
        try:
            ready = watch.poll(0)
            if not ready:
                return False
            if ready[0][1] & _HUNG_UP:
                return True
            return plain and connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:  # reset by the peer, or already closed
            return True

    return gone


def _since(raw: str | None) -> datetime | None:
    """A feed's `since` (when its page read its rows, with the UTC offset), or None when not given."""
    if raw is None:
        return None
    try:
        return utc_time(raw)
    except ValueError:
        raise InvalidInput("since must be a time with its UTC offset, as the page gives it.", code="invalid_input",
                           details={"fields": {"since": ["Not a time with its UTC offset."]}}) from None


def stream(user_id: int, channel: str, last_id: int | None,
           backlog: Callable[[], Iterable[dict[str, Any]]]) -> Response:
    """One of the user's stream slots, subscribed to `channel` before `backlog()` is read, so that no
    event falls between the two; both are given back if either fails."""
    slot = take_slot(user_id)
    try:
        subscription = subscribe((channel,))
        try:
            events = backlog()
        except BaseException:
            subscription.close()
            raise
        return respond(slot, subscription, events, last_id)
    except BaseException:
        slot.release()
        raise


def feed_stream(user_id: int, channel: str, since: str | None,
                backlog: Callable[[datetime], Iterable[dict[str, Any]]]) -> Response:
    """Live events of many things (an SR queue page, the payments pages).

    A page's first connection gives `since`, the time the page read its rows, and hears first what
    changed since: `backlog(since)`. A reconnection (it sends Last-Event-ID) hears nothing again: the
    page reads its rows anew instead (live-feed.js).
    """
    read_at = _since(since)
    if read_at is None or "Last-Event-ID" in request.headers:
        return stream(user_id, channel, None, tuple)
    return stream(user_id, channel, None, lambda: backlog(read_at))
