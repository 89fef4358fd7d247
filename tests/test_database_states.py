"""The suite's database states (tests/database.py): whatever another connection wrote, as a server
or worker process a test starts would, the database is brought back to its state, rows and sequences."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from tests import database
from tests.database import DEMO, TOKENS, model_tables


def contents() -> dict[str, list[tuple]]:
    with db.engine.connect() as connection:
        return {table.name: sorted(tuple(map(repr, row)) for row in connection.execute(table.select()))
                for table in model_tables(connection)}


def sequences() -> dict[str, int | None]:
    with db.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            return {}
        return dict(connection.execute(sa.text(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()")).all())


def test_rows_changed_deleted_and_sequences_moved_by_another_connection_are_written_back(
        app, demo, database_states):
    with app.app_context():
        rows, numbers = contents(), sequences()
        other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        try:
            with other.begin() as connection:
                # An update that keeps every count, and a delete.
                connection.execute(sa.text("UPDATE users SET name = 'Renamed' WHERE id = :id"),
                                   {"id": demo["engineer"].id})
                connection.execute(sa.text("DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)"))
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT nextval(pg_get_serial_sequence('cases', 'id'))"))
        finally:
            other.dispose()
        assert contents() != rows
        database_states.bring_to(DEMO)
        assert contents() == rows
        assert sequences() == numbers


def test_a_state_built_on_an_earlier_day_is_built_again_with_the_states_built_on_it(
        app, tokens, database_states, monkeypatch):
    # A run that crosses midnight: the demo seeded yesterday counts its dates from yesterday.
    before = database_states.taken[TOKENS]
    tomorrow = before.built_on + timedelta(days=1)
    monkeypatch.setattr(database, "_today", lambda: tomorrow)
    with app.app_context():
        database_states.bring_to(TOKENS)
        db.session.remove()
    after = database_states.taken[TOKENS]
    assert database_states.taken[DEMO].built_on == after.built_on == tomorrow
    assert after.result != before.result  # the tokens were issued again, on the demo seeded again
