"""Unbound extension objects; create_app() binds them to an application."""
from __future__ import annotations

from types import SimpleNamespace

import click
from flask import Flask
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.api_base import Api
from app.db import Session

# Deterministic constraint names, so that Alembic builds the same schema on
# SQLite and PostgreSQL and can later alter constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay readable after commit, so views can render what a service returned.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False, "class_": Session})


class Migrations:
    """Flask-Migrate (`flask db ...`, `flask_migrate.upgrade()`), loaded on first use.

    Flask-Migrate imports Alembic and Mako, some 12 MiB that a web process or an RQ worker never
    needs: create_app() registers a `db` command and an `app.extensions["migrate"]` that load it
    only when a migration command runs or the migration environment reads its settings.
    """

    def init_app(self, app: Flask, db: SQLAlchemy, directory: str) -> None:
        loaded = _LoadedMigrate(db, directory)
        app.extensions["migrate"] = loaded
        app.cli.add_command(_MigrationCommands(loaded))


class _LoadedMigrate:
    """Stands for Flask-Migrate's settings object in app.extensions until one is read."""

    def __init__(self, db: SQLAlchemy, directory: str):
        self._db, self._directory = db, directory
        self._bound: SimpleNamespace | None = None

    def bound(self) -> SimpleNamespace:
        if self._bound is None:
            from flask_migrate import Migrate

            # Flask-Migrate's own init_app, given a stand-in that keeps what it registers.
            holder = SimpleNamespace(extensions={}, cli=click.Group())
            Migrate().init_app(holder, self._db, self._directory)
            self._bound = SimpleNamespace(config=holder.extensions["migrate"], group=holder.cli.commands["db"])
        return self._bound

    def __getattr__(self, name: str):
        return getattr(self.bound().config, name)


class _MigrationCommands(click.Group):
    """`flask db`: Flask-Migrate's command group, loaded when it is invoked."""

    def __init__(self, loaded: _LoadedMigrate):
        super().__init__("db", help="Perform database migrations.")
        self._loaded = loaded

    def _group(self) -> click.Group:
        return self._loaded.bound().group

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        # click runs the context's own command: from here on it is Flask-Migrate's group.
        return self._group().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._group().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._group().get_command(ctx, name)


migrate = Migrations()
login_manager = LoginManager()
csrf = CSRFProtect()
api = Api()
