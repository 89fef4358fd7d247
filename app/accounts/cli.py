"""`flask certifications extend`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts.services import extend_certifications

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
