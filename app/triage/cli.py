"""`flask releasenotes import PATH` and `flask releasenotes check PATH`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.triage.catalogue import import_path, read_path
from app.triage.notes_file import ReleaseNotesError

releasenotes_cli = AppGroup("releasenotes", help="Release notes: known anomalies and fixed issues.")


def _refuse(exc: ReleaseNotesError) -> None:
    for problem in exc.problems:
        click.echo(str(problem), err=True)
    raise click.ClickException(f"refused: {len(exc.problems)} problem(s); nothing was imported")


@releasenotes_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_command(path: Path) -> None:
    """Import a release-notes file, or every one in a folder (all or nothing; safe to repeat)."""
    try:
        report = import_path(path)
    except ReleaseNotesError as exc:
        _refuse(exc)
    for release in report.releases:
        click.echo(str(release))


@releasenotes_cli.command("check")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def check_command(path: Path) -> None:
    """Check release-notes files without importing them."""
    try:
        notes = read_path(path)
    except ReleaseNotesError as exc:
        _refuse(exc)
    click.echo(f"{len(notes)} release-notes file(s) are valid")
