"""The records a file being imported has given so far, kept beside the import's transaction."""
from __future__ import annotations

import json

import sqlalchemy as sa

from app.uow import UnitOfWork

FILE_KEYS = "import_file_keys"
_TEMPORARY_SCHEMAS = {"postgresql": "pg_temp", "sqlite": "temp"}


class FileKeys:
    """The keys of the records a file gave on its lines read so far, with the line that gave each.

    A record given twice in one file is a bad line wherever the two lines are and whatever the first
    of them did: taking the second as a change would make the file contradict itself, and importing
    it again would change the record back. A file may have hundreds of thousands of lines, so the
    keys are kept in a temporary table of the import's transaction rather than in the process. The
    table goes with a rollback (a dry run, a refused file) and is dropped just before the commit:
    SQLite keeps a temporary table for as long as its connection, which the pool hands on.
    """

    def __init__(self, uow: UnitOfWork, parts: int):
        self.session = uow.session
        connection = self.session.connection()
        self.postgres = connection.dialect.name == "postgresql"
        self.parts = [f"part_{n}" for n in range(parts)]
        table = sa.Table(FILE_KEYS, sa.MetaData(),
                         *(sa.Column(name, sa.Text, primary_key=True) for name in self.parts),
                         sa.Column("line", sa.Integer, nullable=False),
                         prefixes=["TEMPORARY"], postgresql_on_commit="DROP")
        _drop_file_keys(connection)  # left by an import that committed without the unit's own commit
        table.create(connection)
        uow.batch(_DropFileKeys)
        # A batch's keys in one statement of few parameters, arrays or JSON: as a multi-row VALUES of
        # thousands of parameters, its text would cost more to build and parse than the whole insert.
        names = ", ".join(self.parts)
        if self.postgres:
            arrays = ", ".join(f"CAST(:{name} AS text[])" for name in self.parts)
            rows = f"SELECT * FROM unnest({arrays}, CAST(:line AS integer[]))"
        else:  # SQLite parses an upsert's SELECT only with a WHERE
            values = ", ".join(f"json_extract(value, '$[{n}]')" for n in range(parts + 1))
            rows = f"SELECT {values} FROM json_each(:rows) WHERE true"
        # A key given before keeps its line, which the statement returns in place of the new one.
        self._keep = sa.text(f"INSERT INTO {FILE_KEYS} ({names}, line) {rows} ON CONFLICT ({names}) "
                             f"DO UPDATE SET line = {FILE_KEYS}.line RETURNING {names}, line")

    def given_before(self, keyed: list[tuple[int, tuple[str, ...]]]) -> dict[int, int]:
        """For a batch's lines, (line, key) in file order: {line: the line that gave its key first}
        for each line whose key an earlier line of the file gave. The keys are kept for later batches."""
        first: dict[tuple[str, ...], int] = {}
        for line, key in keyed:
            first.setdefault(key, line)
        if not first:
            return {}
        if self.postgres:
            parameters = {name: [key[n] for key in first] for n, name in enumerate(self.parts)}
            parameters["line"] = list(first.values())
        else:
            parameters = {"rows": json.dumps([[*key, line] for key, line in first.items()])}
        for *key, line in self.session.connection().execute(self._keep, parameters):
            first[tuple(key)] = line
        return {line: first[key] for line, key in keyed if first[key] != line}


class _DropFileKeys:
    """Drops the file's keys just before the unit commits (a unit's batches are written then)."""

    def write(self, uow: UnitOfWork) -> None:
        _drop_file_keys(uow.session.connection())


def _drop_file_keys(connection: sa.Connection) -> None:
    schema = _TEMPORARY_SCHEMAS[connection.dialect.name]
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {schema}.{FILE_KEYS}")
