"""`flask programmes import-sales FILE [--dry-run] [--skip-bad]`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.programmes import sales

programmes_cli = AppGroup("programmes", help="Rebate programmes.")


@programmes_cli.command("import-sales")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and count; write nothing.")
@click.option("--skip-bad", is_flag=True, help="Import the good lines even when some are bad.")
def import_sales_command(path: str, dry_run: bool, skip_bad: bool) -> None:
    """Import partners' bookings (CSV, UTF-8); every bad line is printed as file:line: reason."""
    with open(path, encoding="utf-8-sig", newline="") as lines:
        report = sales.import_sales(None, lines, path, dry_run=dry_run, skip_bad=skip_bad)
    for line in report.bad:
        click.echo(line, err=True)
    if report.bad_count > len(report.bad):
        click.echo(f"... and {report.bad_count - len(report.bad)} more bad line(s)", err=True)
    outcome = "dry run, nothing written" if dry_run else ("written" if report.written else "NOTHING written")
    click.echo(f"{report.lines} line(s): {report.created} new, {report.unchanged} unchanged, "
               f"{report.bad_count} bad; {outcome}")
    if report.bad_count and not skip_bad:
        raise SystemExit(1)
