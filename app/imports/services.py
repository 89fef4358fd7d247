"""Imports over the web and the API: receive the file, preview or run it, apply a preview as a job.

The file is read from the request with no transaction open and kept in the
attachment storage; an import reads a local copy of it, made with no transaction
open either (the store may be a bucket, and a call to it must not hold locks).
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import FileStorage

from app import access
from app.accounts.models import User
from app.bounds import UNSTORABLE, unstorable_text
from app.clock import now
from app.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from app.extensions import db
from app.files.storage import Incoming
from app.files.uploads import forget, release_uploads
from app.imports import kinds  # noqa: F401  (registers the kinds)
from app.imports.models import ImportRun, ImportStatus
from app.imports.reading import FileRefused
from app.imports.runner import Report, kind_of, run_import
from app.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)
# The bad lines an import run keeps for its page (the report counts them all).
KEPT_ERRORS = 200
# Room for the multipart framing around a file of the largest allowed size.
MULTIPART_OVERHEAD = 64 * 1024


class FileTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


def upload_limit() -> int:
    """The largest request body an import upload may have (Werkzeug answers 413 past it)."""
    return current_app.config["IMPORT_MAX_BYTES"] + MULTIPART_OVERHEAD


def import_file(actor: User, kind_name: str, read_upload: Callable[[], FileStorage | None], *,
                dry_run: bool, skip_bad: bool) -> Report:
    """Run an uploaded file now (the API); a file with bad lines and no skip_bad is a 422 that writes nothing."""
    key, filename, _ = _receive(actor, kind_name, read_upload)
    try:
        with _local_copy(key) as stream:
            report = run_import(kind_name, stream, filename, actor=actor, dry_run=dry_run, skip_bad=skip_bad)
    finally:
        forget(key)
    if report.refused and not report.applied and not dry_run:
        raise RuleViolation(f"{report.refused} bad line(s): nothing was written (skip_bad writes the good ones).",
                            code="import_refused", details=report.as_dict())
    return report


def receive(actor: User, kind_name: str, read_upload: Callable[[], FileStorage | None]) -> tuple[str, str, int]:
    """Keep an uploaded file for a preview; (storage key, file name, size)."""
    return _receive(actor, kind_name, read_upload)


def preview(actor: User, kind_name: str, received: tuple[str, str, int], skip_bad: bool) -> ImportRun:
    """Count what applying a received file would change, writing nothing yet (the web page)."""
    key, filename, size = received
    try:
        with _local_copy(key) as stream:
            report = run_import(kind_name, stream, filename, actor=actor, dry_run=True, skip_bad=skip_bad)
        with unit_of_work() as uow:
            run = ImportRun(kind=kind_name, filename=filename, storage_key=key, size=size, skip_bad=skip_bad,
                            status=ImportStatus.PREVIEWED, processed_bytes=0, created_by_id=actor.id)
            _counts(run, report)
            uow.session.add(run)
    except BaseException:
        forget(key)
        raise
    return run


def list_runs(actor: User, limit: int = 20) -> list[ImportRun]:
    access.require(actor, "import.run")
    return list(db.session.scalars(sa.select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)))


def get_run(actor: User, run_id: int) -> ImportRun:
    access.require(actor, "import.run")
    run = db.session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(f"Import {run_id} not found.", code="import_not_found")
    return run


def apply(actor: User, run_id: int) -> ImportRun:
    """Queue a previewed import to be applied as a job; its page follows the progress."""
    with unit_of_work() as uow:
        run = get_run(actor, run_id)
        db.session.refresh(run, with_for_update=True)
        if run.status != ImportStatus.PREVIEWED:
            raise Conflict(f"Import {run.id} is {run.status.value}, not waiting to be applied.",
                           code="import_not_pending")
        if run.refused and not run.skip_bad:
            raise RuleViolation("The file has bad lines: correct them and upload it again, "
                                "or preview it again asking to skip them.", code="import_refused")
        run.status = ImportStatus.QUEUED
        uow.emit("imports.apply", {"run_id": run.id})
    return run


def on_apply(uow: UnitOfWork, payload: dict) -> None:
    # After the event's commit: the import opens its own (long) transaction.
    uow.after_commit(lambda: execute(payload["run_id"]))


def execute(run_id: int) -> None:
    """Apply a queued import; the data, its counts and its status are written in one transaction."""
    with unit_of_work():
        run = db.session.get(ImportRun, run_id, with_for_update=True)
        if run is None or run.status != ImportStatus.QUEUED:
            return  # applied already, or dropped: a repeated job does nothing
        run.status = ImportStatus.RUNNING
        kind_name, filename, key, skip_bad = run.kind, run.filename, run.storage_key, run.skip_bad
        # Read here: a read after this unit would open a transaction that the file's copy, from a store
        # over HTTP (S3), may not run inside.
        actor = db.session.get(User, run.created_by_id)

    def finish(report: Report) -> None:  # inside the import's transaction
        done = db.session.get(ImportRun, run_id)
        _counts(done, report)
        done.status, done.finished_at, done.processed_bytes, done.storage_key = \
            ImportStatus.APPLIED, now(), done.size, None

    try:
        with _local_copy(key) as stream:
            report = run_import(kind_name, stream, filename, actor=actor, skip_bad=skip_bad,
                                on_progress=_progress_writer(run_id), before_commit=finish)
    except Exception:
        log.exception("import %s failed", run_id)
        _end(run_id, ImportStatus.FAILED, None)
        return
    if not report.applied:  # lines that were good at the preview are bad now
        _end(run_id, ImportStatus.REFUSED, report)
    forget(key)


def _end(run_id: int, status: ImportStatus, report: Report | None) -> None:
    with unit_of_work():
        run = db.session.get(ImportRun, run_id)
        run.status, run.finished_at = status, now()
        if report is not None:
            _counts(run, report)


def _progress_writer(run_id: int):
    """How far the import has read, written beside its transaction for the page to show.

    SQLite has one writer at a time and the import is it: there the page shows
    the progress only at the end."""
    if db.engine.dialect.name == "sqlite":
        return None
    table = ImportRun.__table__

    def write(bytes_read: int, report: Report) -> None:
        with db.engine.begin() as connection:
            connection.execute(table.update().where(table.c.id == run_id).values(
                processed_bytes=bytes_read, added=report.added, changed=report.changed,
                unchanged=report.unchanged, refused=report.refused))
    return write


def _counts(run: ImportRun, report: Report) -> None:
    run.added, run.changed, run.unchanged, run.refused = report.added, report.changed, report.unchanged, \
        report.refused
    run.errors = report.errors[:KEPT_ERRORS]


def _receive(actor: User, kind_name: str, read_upload) -> tuple[str, str, int]:
    """Check who asks and for what, then keep the uploaded file; (storage key, file name, size)."""
    with unit_of_work():
        access.require(actor, "import.run")
        kind_of(kind_name)
    try:
        upload = read_upload()
        if upload is None or not upload.filename or not isinstance(upload.stream, Incoming):
            raise InvalidInput("Send the file as multipart field `file`.", code="file_missing",
                               details={"fields": {"file": ["Missing."]}})
        if unstorable_text(upload.filename):
            raise InvalidInput("The file's name contains a NUL character or invalid Unicode.",
                               details={"fields": {"file": [UNSTORABLE]}})
        filename = os.path.basename(upload.filename.replace("\\", "/"))[:200] or "upload.csv"
        if upload.stream.size == 0:
            raise FileRefused(f"{filename}: the file is empty (0 bytes).", code="import_file_empty")
        size = upload.stream.size
        if size > current_app.config["IMPORT_MAX_BYTES"]:  # within the multipart allowance, over the file's
            raise FileTooLarge(f"{filename}: the file is larger than the import limit "
                               f"({current_app.config['IMPORT_MAX_BYTES']} bytes).",
                               details={"max_bytes": current_app.config["IMPORT_MAX_BYTES"]})
        key = current_app.extensions["attachment_storage"].keep(upload.stream)
    finally:
        release_uploads()
    return key, filename, size


@contextmanager
def _local_copy(key: str) -> Iterator:
    """The kept file as a local temporary file, copied with no transaction open."""
    with tempfile.TemporaryFile() as local:
        with current_app.extensions["attachment_storage"].open(key) as stored:
            shutil.copyfileobj(stored, local, 1024 * 1024)
        local.seek(0)
        yield local


HANDLERS = {"imports.apply": on_apply}
