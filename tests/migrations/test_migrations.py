"""The migrations build exactly the schema the models describe, on the suite's database.

CI runs the suite on SQLite and on PostgreSQL, so both backends are checked.
Each test migrates its own empty database (a temporary SQLite file, or a
throw-away PostgreSQL schema), never the one the other tests use.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from app import MIGRATIONS, create_app
from app.extensions import db
from tests.conftest import is_postgres


@pytest.fixture
def empty_database(app, tmp_path):
    """An app on a database with no tables at all, on the same backend as the suite."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not is_postgres(url):
        fresh = _app_on(f"sqlite:///{tmp_path / 'migrations.db'}", app, tmp_path)
        yield fresh
        with fresh.app_context():
            db.engine.dispose()
        return
    schema = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    fresh = _app_on(scoped.render_as_string(hide_password=False), app, tmp_path)
    try:
        yield fresh
    finally:
        with fresh.app_context():
            db.engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _app_on(url: str, app, tmp_path):
    config = {"SQLALCHEMY_DATABASE_URI": url,
              "SQLALCHEMY_ENGINE_OPTIONS": app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    return create_app(config, instance_path=str(tmp_path / "instance"))


def schema_drift(connection) -> list:
    """What autogenerate would put in a new migration: empty when models and migrations agree."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def table_names(connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def test_there_is_exactly_one_head():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"migrations have diverged into several heads: {heads}; merge them"


def test_every_migration_file_is_in_the_revision_chain():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    in_chain = {Path(revision.path).name for revision in script.walk_revisions()}
    on_disk = {path.name for path in (MIGRATIONS / "versions").glob("*.py")}
    assert on_disk == in_chain


def test_upgrade_from_empty_builds_exactly_the_models_schema(empty_database):
    with empty_database.app_context():
        with db.engine.connect() as connection:
            assert table_names(connection) == set()
        upgrade()
        with db.engine.connect() as connection:
            assert table_names(connection) == set(db.metadata.tables) | {"alembic_version"}
            assert schema_drift(connection) == []


def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(empty_database):
    with empty_database.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert table_names(connection) <= {"alembic_version"}
            if connection.dialect.name == "postgresql":
                # Leftover sequences or types would make the next upgrade fail.
                leftovers = connection.execute(sa.text(
                    "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                    " AND relkind IN ('S', 'r', 'v', 'i') AND relname <> 'alembic_version'"
                    " AND relname NOT LIKE 'alembic_version%'")).scalars().all()
                assert leftovers == []
        upgrade()
        with db.engine.connect() as connection:
            assert schema_drift(connection) == []


def test_the_suite_database_matches_the_models(app):
    """The database every other test uses was built by `flask db upgrade` too."""
    with app.app_context(), db.engine.connect() as connection:
        assert schema_drift(connection) == []
