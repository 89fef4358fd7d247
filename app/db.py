"""Database seams: the session class, column helpers and SQLite settings (the unit of work is app.uow)."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.types import TypeDecorator


class Session(FlaskSession):
    """The application's session. It outlives its units of work and keeps what they read
    (expire_on_commit is off, so that a page can render what a service returned); a locking read
    therefore overwrites what the session holds of the rows it locks (_locked_reads_are_fresh)."""


@sa.event.listens_for(Session, "do_orm_execute")
def _locked_reads_are_fresh(state: ORMExecuteState) -> None:
    """SELECT ... FOR UPDATE hands back the rows as they are once locked, also as objects an earlier
    unit of the same request loaded: without this, a unit that locked a row a page had read before
    decided on the page's values, though its lock had waited for another request's change to commit."""
    if state.is_select and getattr(state.statement, "_for_update_arg", None) is not None:
        state.update_execution_options(populate_existing=True)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def str_enum(enum_cls, name: str) -> sa.Enum:
    """An enum stored as its string values with a CHECK constraint: portable and readable in SQL."""
    return sa.Enum(enum_cls, name=name, native_enum=False, create_constraint=True, length=32,
                   values_callable=lambda members: [m.value for m in members])


def sqlite_begin_immediate(connection) -> None:
    """Begin hook: take SQLite's write lock when a transaction starts, not at its first write.

    A transaction that read under a shared lock and then writes fails at once with
    "database is locked" if another writer got in between; starting every transaction
    as IMMEDIATE makes concurrent requests wait their turn (busy_timeout) instead.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_pragmas(dbapi_connection, connection_record):
    """Connect hook: foreign keys are off by default in SQLite; WAL lets readers run beside the writer."""
    # Let SQLAlchemy's begin hook, not the driver, open transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def utcnow() -> datetime:
    from app.clock import now

    return now()


def stored_text(column, label: str):
    """The column's stored string, without converting it to its enum on every row of a list."""
    return sa.type_coerce(column, sa.String()).label(label)


# Above this many parameters, statements built by values_sql() are split the ordinary way (one
# statement per table, SQLAlchemy's executemany): their text would be long and each kept per shape.
ONE_STATEMENT_PARAMETERS = 2_000


def values_sql(columns: dict[str, sa.types.TypeEngine], prefix: str, count: int,
               ordinal: bool = False) -> tuple[str, list[sa.BindParameter]]:
    """`count` rows of these columns (name: type) as a VALUES list in SQL text, with its typed parameters,
    named `{prefix}{row}_{column}` (values_parameters() fills them); with `ordinal`, each row ends with
    its position. For statements kept as text because SQLAlchemy keeps no compiled form of a multi-row
    VALUES: built with its constructs, they would be compiled on every use."""
    parameters = [sa.bindparam(f"{prefix}{row}_{name}", type_=type_)
                  for row in range(count) for name, type_ in columns.items()]
    rows = ", ".join("(" + ", ".join(f":{prefix}{row}_{name}" for name in columns) + (f", {row}" if ordinal else "")
                     + ")" for row in range(count))
    return f"VALUES {rows}", parameters


def values_parameters(prefix: str, rows: list[dict]) -> dict:
    """The parameters of values_sql(prefix) for these rows."""
    return {f"{prefix}{row}_{name}": value for row, values in enumerate(rows) for name, value in values.items()}
