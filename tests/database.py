"""The suite's database between tests: each test starts from a known state, written back fast.

A test starts from one of three states: empty, the demo (SPEC §10), or the demo with a token
for each demo user, after which of the `demo` and `tokens` fixtures it asks for. Each state is
built once per worker by the services (the demo seeded, the tokens issued) and taken; before
a test the database is brought back to its state, writing only where it differs:

- on SQLite, an image of the database (taken with SQLite's backup API) is copied back whole when
  anything was written since the last copy: `PRAGMA data_version` on the suite's own connection
  changes when any other connection commits (a request, a job, another process);
- on PostgreSQL, only the tables that differ are written back, and the sequences that moved: a
  row written since the last restore has a newer xmin than that restore's transaction, a deleted
  row leaves its table short. Writes by processes a test starts (gunicorn, RQ workers) show as
  well as the test's own.

A state built by the services is dated: the demo's dates are counted from the day it was seeded, and
the tests count theirs from the day they run. A state built on an earlier day (a run that crosses
midnight, UTC) is built again, with the states built on it.

A test that writes nothing (a read, a refusal) costs its successor nothing. Rows are deleted, not
truncated: on PostgreSQL a TRUNCATE of every table creates new files for each table and index,
nearly a second per test, where deleting a few hundred rows takes milliseconds.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable

import sqlalchemy as sa

from app.extensions import db

EMPTY, DEMO, TOKENS = "empty", "demo", "tokens"
XID_WRAP = 2**32  # xmin is the 32 bits of a transaction id; txid_current() adds the epoch above them


def model_tables(connection) -> list[sa.Table]:
    """The models' tables that the migrations built, parents before children."""
    # Drift between models and migrations is the migrations test's to report, not the suite's.
    existing = set(sa.inspect(connection).get_table_names())
    return [table for table in db.metadata.sorted_tables if table.name in existing]


@dataclass
class Taken:
    """One state: every row by table and where the sequences stood (PostgreSQL), or an image of
    the database (SQLite); and what building it returned (the tokens' headers)."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    sequences: dict[str, int | None] = field(default_factory=dict)
    image: sqlite3.Connection | None = None
    result: Any = None
    built_on: date | None = None  # the day the services built it; None: it holds no date


class DatabaseStates:
    """The states of one worker's database, and which of them it holds now."""

    def __init__(self, builds: dict[str, tuple[str, Callable[[], Any]]]):
        # state -> (the state it is built on, how: a callable run in an application context)
        self.builds = builds
        self.taken: dict[str, Taken] = {}
        self.holds: str | None = None  # the state last written back or taken
        self.started_from: str | None = None  # the state the running test started from, if still its own
        with db.engine.connect() as connection:
            self.postgres = connection.dialect.name == "postgresql"
            self.tables = model_tables(connection)
        if self.postgres:
            self.watermark = 0  # the transaction of the last restore; rows written later are newer
            self._changes = sa.text(" UNION ALL ".join(
                f"SELECT '{table.name}', count(*), coalesce(max(xmin::text::bigint), 0) FROM \"{table.name}\""
                for table in self.tables))
        else:
            self.own = sqlite3.connect(db.engine.url.database, isolation_level=None, check_same_thread=False)
            self.own.execute("PRAGMA busy_timeout=30000")
            self.version = None
        self.taken[EMPTY] = self._take()
        self.holds = EMPTY

    def bring_to(self, name: str) -> Taken:
        """Put the database in state `name` (built on first use, or again on a later day) and
        return it."""
        stale = self.taken.get(name)
        if stale is not None and stale.built_on not in (None, _today()):
            self._forget(name)
        if name not in self.taken:
            base, build = self.builds[name]
            self.bring_to(base)
            day = _today()  # before building: a seeding that runs past midnight counts from this day
            result = build()
            self.taken[name] = self._take(result)
            self.taken[name].built_on = day
            self.holds = name
            return self.taken[name]
        target = self.taken[name]
        if self.postgres:
            self._restore_postgres(target)
        elif self.holds != name or self._sqlite_version() != self.version:
            target.image.backup(self.own)
            self.version = self._sqlite_version()
        self.holds = name
        return target

    def _forget(self, name: str) -> None:
        """Drop state `name` and every state built on it."""
        self.taken.pop(name, None)
        for other, (base, _) in self.builds.items():
            if base == name:
                self._forget(other)

    def _take(self, result: Any = None) -> Taken:
        taken = Taken(result=result)
        if not self.postgres:
            taken.image = sqlite3.connect(":memory:", check_same_thread=False)
            self.own.backup(taken.image)
            self.version = self._sqlite_version()
            return taken
        with db.engine.begin() as connection:
            for table in self.tables:
                rows = [dict(row) for row in connection.execute(table.select()).mappings()]
                if rows:
                    taken.rows[table.name] = rows
            taken.sequences = self._sequences(connection)
            self.watermark = connection.execute(sa.text("SELECT txid_current()")).scalar() % XID_WRAP
        return taken

    # -- SQLite --------------------------------------------------------------------------
    def _sqlite_version(self) -> int:
        return self.own.execute("PRAGMA data_version").fetchone()[0]

    # -- PostgreSQL ----------------------------------------------------------------------
    @staticmethod
    def _sequences(connection) -> dict[str, int | None]:
        return dict(connection.execute(sa.text(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()")).all())

    def _restore_postgres(self, target: Taken) -> None:
        held = self.taken.get(self.holds) if self.holds else None
        with db.engine.begin() as connection:
            def differs(table: sa.Table, count: int, newest: int) -> bool:
                if held is None or newest > self.watermark:
                    return True
                rows = held.rows.get(table.name, [])
                return count != len(rows) or (held is not target and rows != target.rows.get(table.name, []))

            tables = [table for table, (count, newest) in zip(self.tables, self._counts(connection))
                      if differs(table, count, newest)]
            moved = {name: value for name, value in self._sequences(connection).items()
                     if value != target.sequences.get(name)}
            if not tables and not moved:
                return
            # Rows that point at each other are written table by table: references are not checked.
            statements = ["SET LOCAL session_replication_role = replica",
                          *(f'DELETE FROM "{table.name}"' for table in reversed(tables))]
            connection.exec_driver_sql("; ".join(statements))
            for table in tables:
                rows = target.rows.get(table.name)
                if rows:
                    connection.execute(table.insert(), rows)
            if moved:
                # A sequence never called stands at 1 with is_called false: its next value is 1.
                values = {name: target.sequences.get(name) for name in moved}
                calls = ", ".join(f"setval('\"{name}\"', {value or 1}, {str(value is not None).lower()})"
                                  for name, value in values.items())
                connection.exec_driver_sql(f"SELECT {calls}")
            self.watermark = connection.execute(sa.text("SELECT txid_current()")).scalar() % XID_WRAP

    def _counts(self, connection) -> list[tuple[int, int]]:
        found = {name: (count, newest) for name, count, newest in connection.execute(self._changes)}
        return [found[table.name] for table in self.tables]


def _today() -> date:
    # The system's day, as the demo's seeding reads it when no test has set the application's clock.
    return datetime.now(timezone.utc).date()
