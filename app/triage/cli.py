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


_FAMILY = click.option("--family", help="For PDF and HTML documents whose title does not name the product.")
_RELEASE = click.option("--release", help="For PDF and HTML documents whose title does not name the release.")


@releasenotes_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@_FAMILY
@_RELEASE
def import_command(path: Path, family: str | None, release: str | None) -> None:
    """Import a release-notes file, or every one in a folder (all or nothing; safe to repeat).

    Files are the project's YAML or JSON, or vendors' PDF and HTML documents, whose open/known and
    fixed issues tables are read.
    """
    try:
        report = import_path(path, family, release)
    except ReleaseNotesError as exc:
        _refuse(exc)
    for release in report.releases:
        click.echo(str(release))


@releasenotes_cli.command("check")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@_FAMILY
@_RELEASE
def check_command(path: Path, family: str | None, release: str | None) -> None:
    """Check release-notes files without importing them."""
    try:
        notes = read_path(path, family, release)
    except ReleaseNotesError as exc:
        _refuse(exc)
    click.echo(f"{len(notes)} release-notes file(s) are valid")
