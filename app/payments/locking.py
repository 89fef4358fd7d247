"""Row locks and insert-if-absent, on PostgreSQL and on the embedded SQLite.

PostgreSQL: SELECT ... FOR UPDATE locks the rows until the transaction ends.
SQLite has no row locks and runs plain SELECTs outside any transaction, so a
read-check-write there is only safe once the transaction holds the database's
write lock; a no-op UPDATE takes it (and waits for it, up to busy_timeout).
Either way, rows read after lock() are current and stay so until commit.
"""
from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def take_write_lock(session: Session) -> None:
    """On SQLite, make this transaction the writer now; a no-op on PostgreSQL."""
    if not is_postgres(session):
        session.execute(sa.text("UPDATE ledger_accounts SET id = id WHERE 0"))


def for_update(query: sa.Select) -> sa.Select:
    """`query` as it locks: only the selected entity's rows, freshly read."""
    # Its eagerly joined relations are read, not locked (PostgreSQL refuses FOR UPDATE on the
    # nullable side of those outer joins).
    entity = query.column_descriptions[0]["entity"]
    return query.with_for_update(of=entity).execution_options(populate_existing=True)


def lock_one(session: Session, query: sa.Select) -> Any | None:
    """The one row of `query`, locked and freshly read (None if absent)."""
    take_write_lock(session)
    return session.scalars(for_update(query)).one_or_none()


def lock_row(session: Session, statement: sa.Select, parameters: dict[str, Any]) -> sa.Row | None:
    """The one row of `statement`, a for_update() query that a hot caller builds once (its first entity
    locked and freshly read, with the other columns it selects), or None if absent."""
    take_write_lock(session)
    return session.execute(statement, parameters).one_or_none()


def lock_all(session: Session, query: sa.Select) -> list[Any]:
    """Every row of `query`, locked and freshly read; order the query to avoid deadlocks."""
    take_write_lock(session)
    return list(session.scalars(for_update(query)))


def insert_if_absent(session: Session, table: sa.Table, values: dict, index_elements: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True if this call inserted the row.

    Concurrent creators of one row both succeed; on PostgreSQL the second waits
    for the first to commit and then learns that the row exists.
    """
    dialect = postgresql if is_postgres(session) else sqlite
    statement = (dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=index_elements)
                 .returning(*table.primary_key.columns))
    return session.execute(statement).first() is not None


def insert_absent(session: Session, table: sa.Table, rows: list[dict], index_elements: list[str],
                  returning: str) -> set[Any]:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING; the `returning` values of the rows it inserted."""
    if not rows:
        return set()
    dialect = postgresql if is_postgres(session) else sqlite
    statement = (dialect.insert(table).values(rows).on_conflict_do_nothing(index_elements=index_elements)
                 .returning(table.c[returning]))
    return set(session.scalars(statement))
