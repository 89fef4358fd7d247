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


def stream(subscription, backlog: Iterable[dict[str, Any]], last_id: int | None, *,
           heartbeat: float, max_seconds: float, on_close: Callable[[], None] | None = None) -> Iterator[str]:
    """The body of an event stream: the backlog, then live events, with keep-alive comments.

    It holds no database session: the backlog was read before streaming began. After
    `max_seconds` it ends; EventSource reconnects with Last-Event-ID and misses nothing.
    A feed of many things' events (last_id None) skips nothing after its backlog, if it has one: the
    ids of different things' events need not arrive in order, and one may come twice. An event
    without an id (a page's cue to read something again, never replayed) is forwarded as it comes and
    moves no stream position.
    """
    deadline = time.monotonic() + max_seconds
    try:
        yield "retry: 2000\n: connected\n\n"
        for payload in backlog:
            if last_id is not None:
                last_id = max(last_id, payload["id"])
            yield sse(payload["id"], payload["kind"], json.dumps(payload))
        while time.monotonic() < deadline:
            message = subscription.get(timeout=min(heartbeat, max(deadline - time.monotonic(), 0.01)))
            if message is None:
                yield ": keep-alive\n\n"
                continue
            payload = json.loads(message)
            event_id = payload.get("id")
            if last_id is not None and event_id is not None:
                if event_id <= last_id:
                    continue  # already sent from the backlog
                last_id = event_id
            yield sse(event_id, payload["kind"], message)
    finally:
        subscription.close()
        if on_close is not None:
            on_close()
