"""The suite's database between tests: emptied after each one, and the demo written back fast.

Seeding the demo runs the services (passwords hashed, cases opened, release notes
loaded): a quarter of a second on SQLite and more on PostgreSQL, for every test
that asks for it. The rows it leaves are the same every time, so each worker seeds
once (DemoRows.take) and writes those rows back for the tests that ask
(DemoRows.restore): the same ids, the same values, and the sequences where seeding
left them.

Emptying deletes rather than truncates: on PostgreSQL a TRUNCATE of every table
creates new files for each table and index, nearly a second per test, where
deleting a few hundred rows takes milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from app.extensions import db


def model_tables(connection) -> list[sa.Table]:
    """The models' tables that the migrations built, parents before children."""
    # Drift between models and migrations is the migrations test's to report, not the suite's.
    existing = set(sa.inspect(connection).get_table_names())
    return [table for table in db.metadata.sorted_tables if table.name in existing]


def empty(connection) -> None:
    """Delete every row of the models' tables and start their ids again from 1."""
    tables = model_tables(connection)
    if connection.dialect.name == "postgresql":
        # Foreign keys are not checked while emptying: every table is emptied, so none is left dangling.
        statements = ["SET LOCAL session_replication_role = replica",
                      *(f'DELETE FROM "{table.name}"' for table in reversed(tables)),
                      "SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"]
        connection.exec_driver_sql("; ".join(statements))
    else:
        for table in reversed(tables):
            connection.execute(table.delete())


@dataclass
class DemoRows:
    """Every row the demo seeding wrote, by table, and where it left the id sequences."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)

    @classmethod
    def take(cls, connection) -> DemoRows:
        taken = cls()
        for table in model_tables(connection):
            rows = [dict(row) for row in connection.execute(table.select()).mappings()]
            if rows:
                taken.rows[table.name] = rows
        if connection.dialect.name == "postgresql":
            for name, last_value, is_called in connection.exec_driver_sql(
                    "SELECT sequencename, last_value, last_value IS NOT NULL FROM pg_sequences"):
                if is_called:
                    taken.sequences[name] = (last_value, True)
        return taken

    def restore(self, connection) -> None:
        """Write the rows back into emptied tables."""
        # Rows that point at each other are written table by table: check their references at the end.
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for table in model_tables(connection):
            rows = self.rows.get(table.name)
            if rows:
                connection.execute(table.insert(), rows)
        if self.sequences:
            calls = ", ".join(f"setval('\"{name}\"', {value}, {str(called).lower()})"
                              for name, (value, called) in self.sequences.items())
            connection.exec_driver_sql(f"SELECT {calls}")
