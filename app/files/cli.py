"""`flask attachments migrate --to s3`: move the kept files from the local folder into the bucket."""
from __future__ import annotations

import itertools

import click
from flask import current_app
from flask.cli import AppGroup

from app.files import moving
from app.files.storage import LocalStorage

attachments_cli = AppGroup("attachments", help="Where attachment files are kept.")


@attachments_cli.command("migrate")
@click.option("--to", "target", type=click.Choice(["s3"]), required=True,
              help="Where to: the bucket of the S3_* settings.")
@click.option("--delete-local", is_flag=True,
              help="Remove each local file once its object is verified in the bucket.")
@click.option("--verbose", is_flag=True, help="One line per file.")
def migrate_command(target: str, delete_local: bool, verbose: bool) -> None:
    """Copy every attachment file from ATTACHMENTS_DIR to the bucket under its own key, verifying
    size and SHA-256; files already there are skipped, so an interrupted run is simply started again.
    Then set ATTACHMENTS_STORAGE=s3."""
    config = current_app.config
    if not config["S3_BUCKET"]:
        raise click.ClickException("S3_BUCKET (and S3_ENDPOINT_URL for a store other than AWS) must be set")
    source = LocalStorage(config["ATTACHMENTS_DIR"])
    from app.files import s3  # boto3 only for the command that needs it (see app/files/settings.py)

    bucket = s3.from_config(config)

    def progress(key: str, outcome: str) -> None:
        if verbose:
            click.echo(f"{key} {outcome}")

    files = itertools.chain.from_iterable(kept() for kept in current_app.extensions["kept_files"])
    report = moving.move_to_bucket(source, bucket, files, delete_local=delete_local, progress=progress)
    click.echo(f"moved {report.moved}, already in the bucket {report.present}, "
               f"removed locally {report.removed_locally}, failed {len(report.failures)}")
    for failure in report.failures:
        click.echo(f"FAILED {failure}", err=True)
    if report.failures:
        raise SystemExit(1)
