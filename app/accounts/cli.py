"""`flask certifications extend`, `flask users deactivate` and `flask users set-password`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts.services import deactivate_user, extend_certifications, set_password
from app.errors import DomainError

certifications_cli = AppGroup("certifications", help="Engineer certifications.")


@certifications_cli.command("extend")
@click.option("--days", type=click.IntRange(min=1), required=True, help="Days to add.")
@click.option("--family", default=None, help="Only this product family (default: all).")
@click.option("--expiring-before", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only certifications expiring before this date (YYYY-MM-DD).")
def extend_command(days: int, family: str | None, expiring_before) -> None:
    """Programme-wide extension of certification expiry dates (audited)."""
    moved = extend_certifications(family, days, expiring_before.date() if expiring_before else None)
    click.echo(f"extended {moved} certification(s) by {days} day(s)")


users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Stop a user signing in or using tokens, and end every web session of theirs."""
    try:
        deactivate_user(email)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{email} deactivated; their web sessions are ended")


@users_cli.command("set-password")
@click.argument("email")
@click.password_option(help="The new password (asked for when not given).")
def set_password_command(email: str, password: str) -> None:
    """A new password for a user; every web session of theirs ends."""
    try:
        set_password(email, password)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"password of {email} changed; their web sessions are ended")
