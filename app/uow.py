"""The unit of work: one use case, one transaction, and everything the change causes.

A use case opens one with `with unit_of_work() as uow:` and works through
`uow.session`. What the change causes is collected on the unit, never in
hidden session state, and written or sent by `commit()` in one fixed order:

1. the batches (the ledger's planned transfers and cached balances: see batch()),
2. the session's pending rows,
3. the unit's audit events and outbox events, one INSERT per table however many
   there are, on PostgreSQL one statement for them all (write_records()), then the COMMIT;
4. after the commit, with no transaction open: the live events are published,
   the outbox events handed to the dispatcher, and the effects on the outside
   world (an e-mail, an HTTP call: after_commit()) are run.

Audit and outbox rows are append-only and nothing in a unit reads them back, so they
are kept as plain rows and written with the commit rather than as ORM objects
flushed one by one (flushing the two rows of an opened case cost about as much CPU
as inserting the case). Code that must have them written earlier calls write_records().

Nothing joins a unit silently: opening a second one while one is active on the
session raises NestedUnitOfWork. Code that works inside a caller's unit takes
the unit as a parameter. A failure before the commit rolls everything back,
the outbox events, live events and effects included.
"""
from __future__ import annotations

import functools
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from app.clock import now
from app.db import ONE_STATEMENT_PARAMETERS, values_parameters, values_sql
from app.extensions import db
from app.logs import current_request_id
from app.outbox.models import OutboxEvent

log = logging.getLogger(__name__)

# Where the one active unit of a session is found (the only key this module keeps in session.info).
_ACTIVE = "unit_of_work"
LIVE_BROKER = "live_broker"


class NestedUnitOfWork(RuntimeError):
    """A unit was opened while another one was active on the same session: pass the unit instead."""


class Batch(Protocol):
    """Work collected during a unit and written just before its commit (see UnitOfWork.batch)."""

    def write(self, uow: UnitOfWork) -> None: ...


B = TypeVar("B", bound=Batch)
# An effect may name the events on whose behalf it runs (a batch of outbox events) and may
# return {event id: error} for those of them it failed (any other answer: none); raising fails them all.
EffectResult = object


_OUTBOX = OutboxEvent.__table__
_OUTBOX_INSERT = sa.insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)
_EVENT_COLUMNS = ("topic", "payload", "created_at", "attempts", "request_id")  # Emitted.row()'s
_INSERTS: dict[sa.Table, sa.Insert] = {}


def _insert(table: sa.Table) -> sa.Insert:
    found = _INSERTS.get(table)
    if found is None:
        found = _INSERTS[table] = sa.insert(table)
    return found


@functools.lru_cache(maxsize=64)
def _records_statement(tables: tuple[tuple[sa.Table, tuple[str, ...], int], ...], events: int) -> sa.TextClause:
    """The outbox's INSERT of `events` events with each table's (columns, row count) as data-modifying
    CTEs: on PostgreSQL one round trip writes them all (each CTE runs to completion, read or not).

    Text (app.db.values_sql), kept per shape. The events are inserted in their order (ORDER BY their
    ordinal) and their serial ids rise with it, so the returned ids, sorted, are the events' in order:
    what SQLAlchemy's own multi-row INSERT relies on to give each parameter set its id.
    """
    quote = postgresql.dialect().identifier_preparer.quote
    ctes, parameters = [], []
    for t, (table, columns, count) in enumerate(tables):
        rows, bound = values_sql({name: table.c[name].type for name in columns}, f"t{t}r", count)
        ctes.append(f"rows_{t} AS (INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) {rows})")
        parameters += bound
    names = ", ".join(map(quote, _EVENT_COLUMNS))
    rows, bound = values_sql({name: _OUTBOX.c[name].type for name in _EVENT_COLUMNS}, "e", events, ordinal=True)
    return sa.text(f"WITH {', '.join(ctes)} INSERT INTO {quote(_OUTBOX.name)} ({names}) SELECT {names} "
                   f"FROM ({rows}) AS events ({names}, ordinal) ORDER BY ordinal RETURNING id"
                   ).bindparams(*parameters, *bound)


class Emitted:
    """An outbox event of a unit: its row until written, then also its id."""

    __slots__ = ("topic", "payload", "created_at", "request_id", "id")

    def __init__(self, topic: str, payload: dict[str, Any], created_at, request_id: str | None):
        self.topic, self.payload, self.created_at, self.request_id = topic, payload, created_at, request_id
        self.id: int | None = None

    def row(self) -> dict[str, Any]:
        return {"topic": self.topic, "payload": self.payload, "created_at": self.created_at, "attempts": 0,
                "request_id": self.request_id}


@dataclass
class Effect:
    call: Callable[[], EffectResult]
    owners: tuple[int, ...] | None = None


class UnitOfWork:
    """One transaction on `session` and the events, batches and effects it causes."""

    def __init__(self, session: Session):
        self.session = session
        self.outbox: list[Emitted] = []
        self._unwritten_events: list[Emitted] = []
        self._unwritten_rows: dict[sa.Table, list[dict[str, Any]]] = {}
        self.live: list[tuple[tuple[str, ...], str]] = []
        self.effects: list[Effect] = []
        self._batches: dict[type, Batch] = {}
        self._owners: tuple[int, ...] | None = None
        self.committed = False

    # -- what the change causes ---------------------------------------------------------
    def emit(self, topic: str, payload: dict[str, Any]) -> Emitted:
        """An outbox event, written with the change and handed to its handler after the commit
        (its id is known once written: after the commit, or write_records())."""
        if topic not in current_app.extensions["outbox_handlers"]:
            raise KeyError(f"no outbox handler for topic {topic!r}")
        event = Emitted(topic, payload, now(), current_request_id())
        self.outbox.append(event)
        self._unwritten_events.append(event)
        return event

    def insert_later(self, table: sa.Table, row: dict[str, Any]) -> None:
        """A row of an append-only table that nothing in the unit reads back (the audit trail's),
        written by write_records() with the others of its table."""
        self._unwritten_rows.setdefault(table, []).append(row)

    def write_records(self) -> None:
        """Write the rows of insert_later() and the outbox events collected so far: one INSERT
        for each table. The commit calls it; call it first to have them written earlier."""
        tables, self._unwritten_rows = self._unwritten_rows, {}
        events, self._unwritten_events = self._unwritten_events, []
        if not (tables or events):
            return
        connection = self.session.connection()  # Core rows: none of the ORM session's bookkeeping
        if events and tables and connection.dialect.name == "postgresql" and self._write_in_one(
                connection, tables, events):
            return
        for table, rows in tables.items():
            connection.execute(_insert(table), rows)
        if events:
            ids = connection.execute(_OUTBOX_INSERT, [event.row() for event in events]).scalars().all()
            for event, event_id in zip(events, ids):
                event.id = event_id

    @staticmethod
    def _write_in_one(connection: sa.Connection, tables: dict[sa.Table, list[dict[str, Any]]],
                      events: list[Emitted]) -> bool:
        """write_records() in one statement (_records_statement) if the rows fit one; False if not."""
        shape = tuple((table, tuple(rows[0]), len(rows)) for table, rows in tables.items())
        if (sum(len(columns) * count for _, columns, count in shape) + len(_EVENT_COLUMNS) * len(events)
                > ONE_STATEMENT_PARAMETERS
                or any(tuple(row) != columns for (_, columns, _), rows in zip(shape, tables.values()) for row in rows)):
            return False
        parameters = values_parameters("e", [event.row() for event in events])
        for t, rows in enumerate(tables.values()):
            parameters.update(values_parameters(f"t{t}r", rows))
        ids = sorted(connection.execute(_records_statement(shape, len(events)), parameters).scalars())
        for event, event_id in zip(events, ids):
            event.id = event_id
        return True

    def publish(self, channels: tuple[str, ...], payload: dict[str, Any]) -> None:
        """A live event for these channels' streams, published once the change is committed."""
        self.live.append((channels, json.dumps(payload)))

    def batch(self, kind: type[B]) -> B:
        """This unit's one batch of a kind (created on first use), written just before the commit."""
        found = self._batches.get(kind)
        if found is None:
            found = self._batches[kind] = kind()
        return found  # type: ignore[return-value]

    def after_commit(self, call: Callable[[], EffectResult]) -> None:
        """A call to the outside world, made after the commit with no transaction open."""
        self.effects.append(Effect(call, self._owners))

    @contextmanager
    def part(self) -> Iterator[None]:
        """A part of the unit that may fail alone: a savepoint, and what the part left on the unit
        (outbox, audit and live events, effects) goes with it when it raises.

        The rows collected before the part are written first, outside the savepoint, so that
        a failing part can drop everything still unwritten as its own.
        """
        self.write_records()
        marks = len(self.effects), len(self.outbox), len(self.live)
        try:
            with self.session.begin_nested():
                yield
        except Exception:
            del self.effects[marks[0]:], self.outbox[marks[1]:], self.live[marks[2]:]
            self._unwritten_events.clear()
            self._unwritten_rows.clear()
            raise

    @contextmanager
    def on_behalf_of(self, event_ids: list[int]) -> Iterator[None]:
        """Effects deferred in this block fail only these outbox events when they fail."""
        previous, self._owners = self._owners, tuple(event_ids)
        try:
            yield
        finally:
            self._owners = previous

    # -- the end of the unit ------------------------------------------------------------
    def commit(self) -> None:
        """Write the batches and the session's rows, commit, then publish and dispatch.

        The effects are left on the unit for whoever opened it (unit_of_work() runs
        them; the outbox runner runs them itself to know which events they failed).
        """
        for batch in list(self._batches.values()):
            batch.write(self)
        self.session.flush()
        self.write_records()
        events = [(event.id, event.topic) for event in self.outbox]
        self.session.commit()
        self.committed = True
        self.session.info.pop(_ACTIVE, None)
        self._publish()
        if events:
            current_app.extensions["outbox_dispatch"](events)

    def rollback(self) -> None:
        self.session.info.pop(_ACTIVE, None)
        self.session.rollback()
        self.outbox.clear()
        self._unwritten_events.clear()
        self._unwritten_rows.clear()
        self.live.clear()
        self.effects.clear()
        self._batches.clear()

    def _publish(self) -> None:
        broker = current_app.extensions.get(LIVE_BROKER)
        if broker is None or not self.live:
            return
        for channels, message in self.live:
            for channel in channels:
                try:
                    broker.publish(channel, message)
                except Exception:  # committed already; streams catch up from the stored timeline
                    log.exception("live events: publishing to %s failed", channel)


def begin(session: Session | None = None) -> UnitOfWork:
    """Start a unit on the session (the application context's by default); see unit_of_work()."""
    session = session if session is not None else db.session()
    if session.info.get(_ACTIVE) is not None:
        raise NestedUnitOfWork("a unit of work is already active on this session; pass it instead")
    uow = UnitOfWork(session)
    session.info[_ACTIVE] = uow
    return uow


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """One use case: commit on success (then run its effects), roll back on any error."""
    uow = begin()
    try:
        yield uow
        uow.commit()
    except BaseException:
        if not uow.committed:
            uow.rollback()
        raise
    run_effects(uow.effects)


def run_effects(effects: list[Effect]) -> None:
    """Run effects outside any transaction; the first failure propagates after the rest ran."""
    failure: BaseException | None = None
    for effect in effects:
        try:
            effect.call()
        except Exception as exc:
            log.exception("an effect after the commit failed")
            failure = failure or exc
    if failure is not None:
        raise failure


def active(session: Session | None = None) -> UnitOfWork | None:
    """The unit active on the session, if any (for guards, not for joining it)."""
    session = session if session is not None else db.session()
    return session.info.get(_ACTIVE)
