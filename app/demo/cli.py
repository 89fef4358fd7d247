"""`flask demo seed`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.demo.seed import seed_demo

demo_cli = AppGroup("demo", help="Demo data for the embedded default.")


@demo_cli.command("seed")
def seed_command() -> None:
    """Create the SPEC §10 demo accounts and data (idempotent; refused in production)."""
    if current_app.config["GTAC_ENV"] == "production":
        raise click.ClickException("demo data is never seeded in production")
    counts = seed_demo()
    click.echo("demo data ready: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
