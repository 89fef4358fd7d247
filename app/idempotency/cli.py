"""`flask idempotency purge`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.idempotency.services import purge

idempotency_cli = AppGroup("idempotency", help="Idempotency keys of retried requests.")


@idempotency_cli.command("purge")
def purge_command() -> None:
    """Forget idempotency keys past their retention window (run daily)."""
    click.echo(f"purged {purge()} idempotency record(s)")
