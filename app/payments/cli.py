"""`flask ledger check` and `flask payments ...` operator commands."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.uow import unit_of_work
from app.payments import bankfile, checks, payees, payouts

ledger_cli = AppGroup("ledger", help="The payments ledger.")
payments_cli = AppGroup("payments", help="Payouts and payee details.")


@ledger_cli.command("check")
def check_command() -> None:
    """Verify every ledger invariant; exits 1 and lists the violations if any fails."""
    with unit_of_work() as uow:
        violations = checks.check_ledger(uow.session)
        counts = checks.summary(uow.session)
    click.echo("checked " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    if violations:
        for violation in violations:
            click.echo(f"VIOLATION [{violation.check}] {violation.message}", err=True)
        raise SystemExit(1)
    click.echo("ledger OK: every invariant holds")


@payments_cli.command("sweep")
@click.option("--stalled-after", default=300, show_default=True, help="Seconds a pending payout may sit.")
@click.option("--refresh-after", default=900, show_default=True,
              help="Seconds in transit before the provider is asked for the status.")
def sweep_command(stalled_after: int, refresh_after: int) -> None:
    """Restart stalled pending payouts and poll long in-transit ones (run periodically)."""
    counts = payouts.sweep(timedelta(seconds=stalled_after), timedelta(seconds=refresh_after))
    click.echo(f"restarted {counts['restarted']} payout(s), polled {counts['polled']}")


@payments_cli.command("rotate-payee-key")
def rotate_command() -> None:
    """Re-encrypt all bank details under the first key of PAYEE_ENCRYPTION_KEYS."""
    click.echo(f"re-encrypted {payees.rotate_keys()} payee record(s)")


@payments_cli.command("webhook-secret")
def webhook_secret_command() -> None:
    """Print the secret the provider signs its webhooks with (the sandbox provider needs it)."""
    click.echo(current_app.config["PAYMENTS_WEBHOOK_SECRET"])


@payments_cli.command("generate-key")
def generate_key_command() -> None:
    """Print a new key to put first in PAYEE_ENCRYPTION_KEYS."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@payments_cli.command("bank-file")
def bank_file_command() -> None:
    """Write the pain.001.001.09 files of payouts waiting for the bank (one per currency)."""
    files = bankfile.write_bank_files()
    if not files:
        click.echo("no payouts waiting for a bank file")
    for written in files:
        click.echo(f"{written.path}: {written.transactions} transfer(s), control sum "
                   f"{written.control_sum} minor units {written.currency}")


@payments_cli.command("confirm")
@click.argument("reference")
@click.argument("status", type=click.Choice(["paid", "failed", "returned"]))
@click.option("--reason", default=None, help="The bank's reason for a failure or a return.")
def confirm_command(reference: str, status: str, reason: str | None) -> None:
    """Record the bank's outcome for a payout sent by file (REFERENCE as on the file, e.g. PO0000000012)."""
    parsed = payouts.parse_reference(reference)
    if parsed is None:
        raise click.ClickException(f"{reference!r} is not a payout reference")
    click.echo(payouts.record_bank_outcome(parsed[0], parsed[1], status, reason))
