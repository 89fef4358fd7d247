"""Server-sent events: the body of a live stream.

A change publishes its live events once its unit of work commits (app.uow); a
stream replays the stored backlog after the client's Last-Event-ID and then
forwards live events, so a reconnecting page misses nothing even if a
publication was lost.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterable, Iterator


def sse(event_id: int | None, name: str, data: str) -> str:
    """One server-sent event."""
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {name}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


# How often a quiet stream looks whether its reader went away (gone()): a page left gives its slot back
# within about this long, rather than at the next heartbeat written to nobody.
GONE_CHECK_SECONDS = 1.0


def stream(subscription, backlog: Iterable[dict[str, Any]], last_id: int | None, *,
           heartbeat: float, max_seconds: float, on_close: Callable[[], None] | None = None,
           gone: Callable[[], bool] = lambda: False) -> Iterator[str]:
    """The body of an event stream: the backlog, then live events, with keep-alive comments.

    It holds no database session: the backlog was read before streaming began. After
    `max_seconds` it ends; EventSource reconnects with Last-Event-ID and misses nothing. It ends
    too once `gone()` says its reader closed the connection.
    A feed of many things' events (last_id None) skips nothing after its backlog, if it has one: the
    ids of different things' events need not arrive in order, and one may come twice. An event
    without an id (a page's cue to read something again, never replayed) is forwarded as it comes and
    moves no stream position.
    """
    deadline = time.monotonic() + max_seconds
    beat = time.monotonic() + heartbeat
    try:
        yield "retry: 2000\n: connected\n\n"
        for payload in backlog:
            if last_id is not None:
                last_id = max(last_id, payload["id"])
            yield sse(payload["id"], payload["kind"], json.dumps(payload))
        while (moment := time.monotonic()) < deadline:
            message = subscription.get(timeout=max(min(beat, deadline, moment + GONE_CHECK_SECONDS) - moment, 0.01))
            if message is None:
                if gone():
                    return
                if time.monotonic() >= beat:
                    beat = time.monotonic() + heartbeat
                    yield ": keep-alive\n\n"
                continue
            payload = json.loads(message)
            event_id = payload.get("id")
            if last_id is not None and event_id is not None:
                if event_id <= last_id:
                    continue  # already sent from the backlog
                last_id = event_id
            yield sse(event_id, payload["kind"], message)
            beat = time.monotonic() + heartbeat  # a keep-alive only after that long with nothing sent
    finally:
        subscription.close()
        if on_close is not None:
            on_close()
