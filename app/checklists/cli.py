"""`flask checklist validate` and `flask checklist migrate`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.checklists.definitions import ChecklistDirectoryError, ChecklistFileError, load_directory, load_file
from app.checklists.services import CHECKLIST_NAME, migrate_open_cases

checklist_cli = AppGroup("checklist", help="Checklist definitions and pinned versions.")


@checklist_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate_command(paths: tuple[Path, ...]) -> None:
    """Validate checklist files (default: the configured checklists/ folder); exit 1 on any problem."""
    errors: list[ChecklistFileError] = []
    checked = 0
    for path in paths or (Path(current_app.config["CHECKLISTS_DIR"]),):
        try:
            if path.is_dir():
                checked += len(load_directory(path).versions(CHECKLIST_NAME)) or 1
            else:
                load_file(path)
                checked += 1
        except ChecklistDirectoryError as exc:
            errors.extend(exc.errors)
        except ChecklistFileError as exc:
            errors.append(exc)
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        sys.exit(1)
    click.echo(f"checklists valid ({checked} checked)")


@checklist_cli.command("migrate")
@click.option("--to-version", type=int, required=True, help="The published version to move cases to.")
@click.option("--case", "case_ids", type=int, multiple=True, help="Only these cases (repeatable).")
def migrate_command(to_version: int, case_ids: tuple[int, ...]) -> None:
    """Move open cases to another checklist version on purpose (audited per case)."""
    moved = migrate_open_cases(to_version, list(case_ids) or None)
    click.echo(f"moved {moved} open case(s) to {CHECKLIST_NAME} v{to_version}")
