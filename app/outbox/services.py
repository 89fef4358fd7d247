"""Writing events, running one event's handler, and finding undelivered events."""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Callable, Iterator

import sqlalchemy as sa
from flask import current_app

from app.clock import now
from app.db import transaction
from app.extensions import db
from app.outbox.models import OutboxEvent

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]
# Runs many events of one topic at once; returns {event id: error} for those that failed.
BatchHandler = Callable[[list[tuple[int, dict[str, Any]]]], dict[int, str]]

# An event handed to RQ but still unprocessed after this long is handed over again.
REDELIVER_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 8
# Where a running handler's deferred effects wait (in the session's info), and, in a
# batch, the events on whose behalf they are being deferred.
_EFFECTS = "outbox_effects"
_OWNERS = "outbox_effect_owners"
# Re-entrant: a handler whose change emits events runs them eagerly from inside its own run.
_sqlite_runs = threading.RLock()


def emit(topic: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record an event in the current transaction; it is dispatched after commit."""
    if topic not in handlers():
        raise KeyError(f"no outbox handler for topic {topic!r}")
    outbox_event = OutboxEvent(topic=topic, payload=payload)
    db.session.add(outbox_event)
    db.session.info.setdefault("outbox_events", []).append(outbox_event)
    return outbox_event


def handlers() -> dict[str, Handler]:
    """The application's handlers by topic (registered by create_app)."""
    return current_app.extensions["outbox_handlers"]


def batch_handlers() -> dict[str, BatchHandler]:
    """Topics that may also be run many events at a time, and how (registered by create_app)."""
    return current_app.extensions.get("outbox_batch_handlers", {})


def defer(effect: Callable[[], None]) -> bool:
    """From inside a handler: call the outside world (SMTP, HTTP) once the handler has read its data.

    The event is marked processed only after the effect succeeded; a failing
    effect leaves it pending like a failing handler. Returns False outside a
    handler, where the caller should act at once. On SQLite the effect runs
    after the handler's transaction commits, so a handler that defers should
    only read: its writes would stay even when the effect fails.
    """
    effects = db.session.info.get(_EFFECTS)
    if effects is None:
        return False
    effects.append((db.session.info.get(_OWNERS), effect))
    return True


def run_event(event_id: int) -> bool:
    """Run the handler of one event unless it already ran. True if it ran now.

    On PostgreSQL the event's row stays locked until its deferred effects are
    done, so a concurrent run of the same event waits and then finds it
    processed. SQLite can only lock the whole database, and nobody may write
    while a mail server takes its time: there the effects run after the
    handler's transaction, and runs are serialised within the process (the
    embedded default has one drain thread per process).
    """
    try:
        if db.session.get_bind().dialect.name == "sqlite":
            with _sqlite_runs:
                return _run(event_id, effects_under_lock=False)
        return _run(event_id, effects_under_lock=True)
    except Exception as exc:
        log.exception("outbox event %s failed", event_id)
        _record_failure(event_id, exc)
        raise


def _run(event_id: int, effects_under_lock: bool) -> bool:
    effects: list[tuple[tuple[int, ...] | None, Callable[[], None]]] = []
    with transaction() as session:
        query = sa.select(OutboxEvent).where(OutboxEvent.id == event_id).with_for_update()
        outbox_event = session.scalars(query).one_or_none()
        if outbox_event is None or outbox_event.processed_at is not None:
            return False
        session.info[_EFFECTS] = effects
        try:
            handlers()[outbox_event.topic](outbox_event.payload)
        finally:
            session.info.pop(_EFFECTS, None)
        if effects_under_lock or not effects:
            _perform(effects)
            outbox_event.processed_at = now()
            outbox_event.attempts += 1
            return True
    _perform(effects)
    with transaction() as session:
        session.execute(
            sa.update(OutboxEvent)
            .where(OutboxEvent.id == event_id, OutboxEvent.processed_at.is_(None))
            .values(processed_at=now(), attempts=OutboxEvent.attempts + 1))
    return True


def run_batch(topic: str, limit: int) -> tuple[int, dict[int, str]]:
    """Run up to `limit` pending events of a batched topic in one transaction.

    Returns (how many ran, {event id: error} of those that failed). It takes the
    events never handed to a job of their own, and those handed over long ago and
    still not processed; on PostgreSQL rows another batch holds are skipped, so two
    workers split the work instead of queueing. An event fails alone when the
    handler says so or when an effect done on its behalf (on_behalf_of()) fails;
    a handler that raises, or an effect on nobody's behalf, fails the whole batch
    (rolled back). Failed events are left pending, their attempt counted, for the
    caller to hand over one by one. Effects run before the commit, under the rows'
    locks, as run_event does on PostgreSQL (batches run on RQ, which production
    pairs with PostgreSQL; on SQLite they would hold the write lock meanwhile).
    """
    handler = batch_handlers()[topic]
    effects: list[tuple[tuple[int, ...] | None, Callable[[], None]]] = []
    event_ids: list[int] = []
    try:
        with transaction() as session:
            rows = session.execute(
                sa.select(OutboxEvent.id, OutboxEvent.payload)
                .where(OutboxEvent.topic == topic, OutboxEvent.processed_at.is_(None),
                       OutboxEvent.attempts < MAX_ATTEMPTS,
                       sa.or_(OutboxEvent.enqueued_at.is_(None), OutboxEvent.enqueued_at < now() - REDELIVER_AFTER))
                .order_by(OutboxEvent.id).limit(limit).with_for_update(skip_locked=True)).all()
            event_ids = [row.id for row in rows]
            if not rows:
                return 0, {}
            session.info[_EFFECTS] = effects
            try:
                failed = dict(handler([(row.id, row.payload) for row in rows]))
            finally:
                session.info.pop(_EFFECTS, None)
            for owners, effect in effects:
                try:
                    effect()
                except Exception as exc:
                    if owners is None:
                        raise
                    failed.update(dict.fromkeys(owners, f"{type(exc).__name__}: {exc}"))
            done = [event_id for event_id in event_ids if event_id not in failed]
            if done:
                session.execute(sa.update(OutboxEvent).where(OutboxEvent.id.in_(done))
                                .values(processed_at=now(), attempts=OutboxEvent.attempts + 1))
            for event_id, error in failed.items():
                _count_failure(session, [event_id], error)
            return len(done), failed
    except Exception as exc:
        if not event_ids:
            raise
        log.exception("outbox: a batch of %s failed as a whole", topic)
        error = f"{type(exc).__name__}: {exc}"
        with transaction() as session:
            _count_failure(session, event_ids, error)
        return 0, dict.fromkeys(event_ids, error)


@contextmanager
def on_behalf_of(event_ids: list[int]) -> Iterator[None]:
    """Inside a batch handler: effects deferred in this block fail only these events."""
    previous = db.session.info.get(_OWNERS)
    db.session.info[_OWNERS] = tuple(event_ids)
    try:
        yield
    finally:
        db.session.info[_OWNERS] = previous


def _count_failure(session, event_ids: list[int], error: str) -> None:
    session.execute(sa.update(OutboxEvent).where(OutboxEvent.id.in_(event_ids))
                    .values(attempts=OutboxEvent.attempts + 1, last_error=error[:2000]))


def _perform(effects: list[tuple[tuple[int, ...] | None, Callable[[], None]]]) -> None:
    for _owners, effect in effects:
        effect()


def _record_failure(event_id: int, exc: Exception) -> None:
    with transaction() as session:
        session.execute(
            sa.update(OutboxEvent).where(OutboxEvent.id == event_id)
            .values(attempts=OutboxEvent.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
        )


def undelivered(limit: int = 500) -> list[tuple[int, str]]:
    """(id, topic) of events never handed over, or handed over long ago and still not processed."""
    stale = now() - REDELIVER_AFTER
    query = (
        sa.select(OutboxEvent.id, OutboxEvent.topic)
        .where(OutboxEvent.processed_at.is_(None), OutboxEvent.attempts < MAX_ATTEMPTS,
               sa.or_(OutboxEvent.enqueued_at.is_(None), OutboxEvent.enqueued_at < stale))
        .order_by(OutboxEvent.id).limit(limit)
    )
    with transaction() as session:
        return [(row.id, row.topic) for row in session.execute(query)]


def mark_enqueued(event_ids: list[int]) -> None:
    """Record that these events were handed to RQ; the relay leaves them alone until stale."""
    with transaction() as session:
        session.execute(sa.update(OutboxEvent).where(OutboxEvent.id.in_(event_ids))
                        .values(enqueued_at=now()))
