"""`flask srs watch`: the periodic SLA job (run one or more; alerts are recorded once whatever runs);
the keys of webhook secrets: `flask srs generate-key`, `flask srs rotate-webhook-key`."""
from __future__ import annotations

import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup

from app.srs import jobs
from app.webhooks import services as webhooks

log = logging.getLogger(__name__)

srs_cli = AppGroup("srs", help="GTAC service requests.")


@srs_cli.command("watch")
@click.option("--interval", type=click.IntRange(min=1), default=None,
              help="Seconds between passes (default SR_WATCH_INTERVAL).")
@click.option("--once", is_flag=True, help="One pass, then exit.")
def watch_command(interval: int | None, once: bool) -> None:
    """Record and notify SLA warnings and breaches, and retry due webhook deliveries, every interval."""
    interval = interval or current_app.config["SR_WATCH_INTERVAL"]
    while True:
        started = time.monotonic()
        try:
            outcome = jobs.periodic_pass()
        except Exception:
            if once:
                raise
            # A database hiccup must not stop the watch: the next pass sees everything still due.
            log.exception("srs watch: pass failed, retrying in %s s", interval)
            outcome = None
        if outcome is not None and (once or any(outcome.values())):
            click.echo(" ".join(f"{key}={value}" for key, value in outcome.items())
                       + f" in {time.monotonic() - started:.2f}s")
        if once:
            return
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


@srs_cli.command("generate-key")
def generate_key_command() -> None:
    """Print a new key to put first in SR_WEBHOOK_SECRET_KEYS."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@srs_cli.command("rotate-webhook-key")
def rotate_webhook_key_command() -> None:
    """Re-encrypt every webhook signing secret under the first key of SR_WEBHOOK_SECRET_KEYS."""
    click.echo(f"re-encrypted {webhooks.rotate_keys()} webhook secrets")
