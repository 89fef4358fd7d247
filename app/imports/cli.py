"""`flask import contracts|certifications FILE [--dry-run] [--skip-bad]`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.errors import DomainError
from app.imports import kinds  # noqa: F401  (registers the kinds)
from app.imports.registry import KINDS
from app.imports.runner import run_import

import_cli = AppGroup("import", help="Import the vendor's records from CSV files.")


def _command(kind_name: str):
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Check and count what would change; write nothing.")
    @click.option("--skip-bad", is_flag=True, help="Write the good lines even if some are bad.")
    def command(file: str, dry_run: bool, skip_bad: bool) -> None:
        try:
            with open(file, "rb") as stream:
                report = run_import(kind_name, stream, file, dry_run=dry_run, skip_bad=skip_bad,
                                    on_error=lambda message: click.echo(message, err=True))
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        counts = (f"{report.added} added, {report.changed} changed, {report.unchanged} unchanged, "
                  f"{report.refused} refused")
        if report.applied:
            click.echo(f"{kind_name}: {counts}")
        elif dry_run:
            click.echo(f"{kind_name} (dry run, nothing written): {counts}")
        else:
            raise click.ClickException(f"{kind_name}: nothing written: {report.refused} bad line(s) "
                                       f"(--skip-bad writes the good ones); would have been {counts}")

    command.__doc__ = f"{KINDS[kind_name].description} Columns: {','.join(KINDS[kind_name].columns)}"
    return command


for _name in KINDS:
    import_cli.command(_name)(_command(_name))
