"""Running one event's handler, or a batch of one topic's, and finding undelivered events.

A handler is `handler(uow, payload)`; it reads and writes through the unit of
work the runner opened, and defers any call to the outside world with
`uow.after_commit(effect)`. The runner commits the handler's changes together
with a lease on the event, runs the effects with no transaction open, and only
then marks the event processed. A failed effect (or handler) leaves the event
pending, its attempt counted, for the next hand-over; while the lease runs
nobody else takes it. So an effect repeats only if the process dies between
the effect and marking the event processed, or the effect outlives the lease.
"""
from __future__ import annotations

import logging
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

import sqlalchemy as sa
from flask import current_app

from app.clock import now
from app.logs import request_id_bound
from app.outbox.models import OutboxEvent
from app.uow import Effect, UnitOfWork, begin, unit_of_work

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, dict[str, Any]], None]
# Runs many events of one topic at once; returns {event id: error} for those that failed.
BatchHandler = Callable[[UnitOfWork, list[tuple[int, dict[str, Any]]]], dict[int, str]]

# An event handed to RQ but still unprocessed after this long is handed over again.
REDELIVER_AFTER = timedelta(minutes=10)
# Longer than any effect may take: every outgoing call has a total deadline well below it.
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8


def handlers() -> dict[str, Handler]:
    """The application's handlers by topic (registered by create_app)."""
    return current_app.extensions["outbox_handlers"]


def batch_handlers() -> dict[str, BatchHandler]:
    """Topics that may also be run many events at a time, and how (registered by create_app)."""
    return current_app.extensions.get("outbox_batch_handlers", {})


def _free():
    """Events no runner holds: never leased, or their lease has run out."""
    return sa.or_(OutboxEvent.leased_until.is_(None), OutboxEvent.leased_until < now())


def run_event(event_id: int) -> bool:
    """Run the handler of one event unless it already ran or another runner holds it. True if it ran now."""
    with ExitStack() as bound:
        try:
            uow = begin()
            try:
                event = uow.session.scalars(
                    sa.select(OutboxEvent)
                    .where(OutboxEvent.id == event_id, OutboxEvent.processed_at.is_(None), _free())
                    .with_for_update(skip_locked=True)).one_or_none()
                if event is None:
                    uow.rollback()
                    return False
                # Its job logs, and emits, under the id of the request that caused it.
                bound.enter_context(request_id_bound(event.request_id))
                handlers()[event.topic](uow, event.payload)
                if uow.effects:
                    event.leased_until = now() + LEASE
                else:
                    event.processed_at, event.attempts = now(), event.attempts + 1
                effects = list(uow.effects)
                uow.commit()
            except BaseException:
                if not uow.committed:
                    uow.rollback()
                raise
            if not effects:
                return True
            for effect in effects:  # a raising effect fails the event with its own error
                partial = _failures(effect.call())
                if event_id in partial:
                    raise EffectFailed(partial[event_id])
            with unit_of_work() as done:
                done.session.execute(sa.update(OutboxEvent).where(OutboxEvent.id == event_id,
                                                                   OutboxEvent.processed_at.is_(None))
                                     .values(processed_at=now(), attempts=OutboxEvent.attempts + 1, leased_until=None))
            return True
        except Exception as exc:
            log.exception("outbox event %s failed", event_id)
            _count_failure([event_id], f"{type(exc).__name__}: {exc}")
            raise


class EffectFailed(RuntimeError):
    """An effect of the handler (an e-mail, an HTTP call) failed; the event stays pending."""


def run_batch(topic: str, limit: int, only: list[int] | None = None) -> tuple[int, dict[int, str]]:
    """Run up to `limit` pending events of a batched topic (`only`: of these events alone); returns
    (how many ran, {event id: error}).

    It takes the events never handed to a job of their own, those handed over
    long ago and still not processed, and those whose runner died during their
    effects; on PostgreSQL rows another batch holds are skipped, so two workers
    split the work. Without effects, the handler's changes and the events' marks
    commit together; with effects, the handler's changes commit with leases on the
    events, the effects run after (with no transaction open), then the events are
    marked. An event fails alone when the handler says so or when an
    effect done on its behalf (uow.on_behalf_of()) fails; a handler that raises, or
    a failing effect on nobody's behalf, fails the whole batch. Failed events are
    left pending, their attempt counted, for the caller to hand over one by one.
    """
    handler = batch_handlers()[topic]
    event_ids: list[int] = []
    try:
        uow = begin()
        try:
            waiting = (sa.or_(OutboxEvent.enqueued_at.is_(None), OutboxEvent.enqueued_at < now() - REDELIVER_AFTER,
                              OutboxEvent.leased_until.is_not(None))  # as undelivered()
                       if only is None else OutboxEvent.id.in_(only))
            rows = uow.session.execute(
                sa.select(OutboxEvent.id, OutboxEvent.payload)
                .where(OutboxEvent.topic == topic, OutboxEvent.processed_at.is_(None),
                       OutboxEvent.attempts < MAX_ATTEMPTS, _free(), waiting)
                .order_by(OutboxEvent.id).limit(limit).with_for_update(skip_locked=True)).all()
            event_ids = [row.id for row in rows]
            if not rows:
                uow.rollback()
                return 0, {}
            failed = dict(handler(uow, [(row.id, row.payload) for row in rows]))
            effects = list(uow.effects)
            if effects:
                uow.session.execute(sa.update(OutboxEvent).where(OutboxEvent.id.in_(event_ids))
                                    .values(leased_until=now() + LEASE))
            else:
                _mark(uow, [event_id for event_id in event_ids if event_id not in failed], failed)
            uow.commit()
        except BaseException:
            if not uow.committed:
                uow.rollback()
            raise
        if effects:
            failed.update((event_id, error) for event_id, error in _perform(effects, event_ids).items()
                          if event_id not in failed)
            with unit_of_work() as marking:
                _mark(marking, [event_id for event_id in event_ids if event_id not in failed], failed)
        return len(event_ids) - len(failed), failed
    except Exception as exc:
        if not event_ids:
            raise
        log.exception("outbox: a batch of %s failed as a whole", topic)
        error = f"{type(exc).__name__}: {exc}"
        _count_failure(event_ids, error)
        return 0, dict.fromkeys(event_ids, error)


def _mark(uow: UnitOfWork, done: list[int], failed: dict[int, str]) -> None:
    """The events done marked processed, each failed one's attempt and error counted."""
    if done:
        uow.session.execute(sa.update(OutboxEvent).where(OutboxEvent.id.in_(done))
                            .values(processed_at=now(), attempts=OutboxEvent.attempts + 1, leased_until=None))
    for event_id, error in failed.items():
        _count(uow, [event_id], error)


def one_at_a_time(topic: str) -> BatchHandler:
    """The batch form of the topic's handler of one event (looked up when the batch runs): each event
    runs in a savepoint of its own and its effects fail only itself, so a batch is many events' work
    for one job and one transaction, while every event keeps its own outcome, attempts and retries."""
    def run(uow: UnitOfWork, events: list[tuple[int, dict[str, Any]]]) -> dict[int, str]:
        handler = handlers()[topic]
        failed: dict[int, str] = {}
        for event_id, payload in each_event(uow, events):
            try:
                with uow.part():  # what a failing handler left on the unit goes with its part
                    handler(uow, payload)
            except Exception as exc:
                log.exception("outbox event %s failed in a batch", event_id)
                failed[event_id] = f"{type(exc).__name__}: {exc}"
        return failed

    return run


def each_event(uow: UnitOfWork, events: list[tuple[int, dict[str, Any]]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """A batch's events in turn, each under the id of the request that caused it (its logs and what it
    emits, as in run_event), the effects deferred meanwhile failing only that event."""
    request_ids = dict(uow.session.execute(sa.select(OutboxEvent.id, OutboxEvent.request_id)
                                           .where(OutboxEvent.id.in_([event_id for event_id, _ in events]))).all())
    for event_id, payload in events:
        with request_id_bound(request_ids.get(event_id)), uow.on_behalf_of([event_id]):
            yield event_id, payload


def _perform(effects: list[Effect], event_ids: list[int]) -> dict[int, str]:
    """Run the effects (no transaction open); {event id: error} of the events they failed."""
    failed: dict[int, str] = {}
    for effect in effects:
        owners = effect.owners or tuple(event_ids)
        try:
            partial = _failures(effect.call())
        except Exception as exc:
            log.exception("outbox: an effect failed")
            failed.update(dict.fromkeys(owners, f"{type(exc).__name__}: {exc}"))
            continue
        failed.update((event_id, error) for event_id, error in partial.items() if event_id in owners)
    return failed


def _failures(result: object) -> dict[int, str]:
    """What an effect said it failed: {event id: error}; any other answer means nothing failed."""
    return result if isinstance(result, dict) else {}


def _count(uow: UnitOfWork, event_ids: list[int], error: str) -> None:
    uow.session.execute(sa.update(OutboxEvent).where(OutboxEvent.id.in_(event_ids))
                        .values(attempts=OutboxEvent.attempts + 1, last_error=error[:2000], leased_until=None))


def _count_failure(event_ids: list[int], error: str) -> None:
    with unit_of_work() as uow:
        _count(uow, event_ids, error)


def oldest_unprocessed(session) -> datetime | None:
    """When the oldest event still waiting to be processed was written (None when none waits)."""
    return session.scalar(sa.select(sa.func.min(OutboxEvent.created_at)).where(OutboxEvent.processed_at.is_(None)))


def undelivered(limit: int = 500) -> list[tuple[int, str]]:
    """(id, topic) of events never handed over, handed over long ago and still not processed, or
    whose runner died while their effects ran (the lease ran out with the event unprocessed: a
    failure clears the lease, so only a runner that vanished leaves one behind)."""
    stale = now() - REDELIVER_AFTER
    query = (
        sa.select(OutboxEvent.id, OutboxEvent.topic)
        .where(OutboxEvent.processed_at.is_(None), OutboxEvent.attempts < MAX_ATTEMPTS, _free(),
               sa.or_(OutboxEvent.enqueued_at.is_(None), OutboxEvent.enqueued_at < stale,
                      OutboxEvent.leased_until.is_not(None)))
        .order_by(OutboxEvent.id).limit(limit)
    )
    with unit_of_work() as uow:
        return [(row.id, row.topic) for row in uow.session.execute(query)]


def handed_over(after_id: int = 0, limit: int = 500) -> list[tuple[int, str]]:
    """(id, topic) of events handed to a job of their own and not processed yet, whatever the age of
    the hand-over (ids above `after_id`, in order): the jobs a Redis that lost its data took with it."""
    query = (
        sa.select(OutboxEvent.id, OutboxEvent.topic)
        .where(OutboxEvent.id > after_id, OutboxEvent.processed_at.is_(None), OutboxEvent.enqueued_at.is_not(None),
               OutboxEvent.attempts < MAX_ATTEMPTS, _free())
        .order_by(OutboxEvent.id).limit(limit)
    )
    with unit_of_work() as uow:
        return [(row.id, row.topic) for row in uow.session.execute(query)]


def mark_enqueued(event_ids: list[int]) -> None:
    """Record that these events were handed to RQ; the relay leaves them alone until stale."""
    with unit_of_work() as uow:
        uow.session.execute(sa.update(OutboxEvent).where(OutboxEvent.id.in_(event_ids)).values(enqueued_at=now()))
