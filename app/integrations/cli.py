"""`flask integrations rotate-key` and `flask integrations retry-callbacks`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.integrations import callbacks, services

integrations_cli = AppGroup("integrations", help="The programme platform's claims integrations.")


@integrations_cli.command("rotate-key")
def rotate_key_command() -> None:
    """Re-encrypt every integration's signing secret under the first key of INTEGRATION_SECRET_KEYS."""
    click.echo(f"re-encrypted {services.rotate_keys()} integration secrets")


@integrations_cli.command("retry-callbacks")
def retry_callbacks_command() -> None:
    """Attempt now every status callback whose back-off has passed (the scheduler does this on its own)."""
    click.echo(f"attempted {callbacks.deliver_due()} callbacks")
