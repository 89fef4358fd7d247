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
from datetime import timedelta
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


class TakenOver(Exception):
    """The run this worker was applying is no longer its own: the sweep took it for abandoned."""


def execute(run_id: int) -> None:
    """Apply a queued import; the data, its counts and its status are written in one transaction.

    The worker owns the run under the attempt number it takes here, and writes the data only if the
    run is still its own when the transaction commits: a worker taken for dead by the sweep
    (take_over_stalled) while it was only slow finds another attempt there, and writes nothing.
    """
    with unit_of_work():
        run = db.session.get(ImportRun, run_id, with_for_update=True, populate_existing=True)
        if run is None or run.status != ImportStatus.QUEUED:
            return  # applied already, dropped, or another worker's: a repeated job does nothing
        run.status, run.attempts, run.heartbeat_at = ImportStatus.RUNNING, run.attempts + 1, now()
        attempt = run.attempts
        kind_name, filename, key, skip_bad = run.kind, run.filename, run.storage_key, run.skip_bad
        # Read here: a read after this unit would open a transaction that the file's copy, from a store
        # over HTTP (S3), may not run inside.
        actor = db.session.get(User, run.created_by_id)

    def finish(report: Report) -> None:  # inside the import's transaction
        # Locked until the commit: the sweep cannot take the run over between this check and the commit.
        done = _own(run_id, attempt)
        _counts(done, report)
        done.status, done.finished_at, done.processed_bytes, done.storage_key, done.failure = \
            ImportStatus.APPLIED, now(), done.size, None, None

    try:
        with _local_copy(key) as stream:
            report = run_import(kind_name, stream, filename, actor=actor, skip_bad=skip_bad,
                                on_progress=_progress_writer(run_id, attempt), before_commit=finish)
    except TakenOver:
        # The import's transaction was rolled back; the file is kept for the attempt that took over.
        log.warning("import %s: attempt %s was taken over as stalled; it wrote nothing", run_id, attempt)
        return
    except Exception as exc:
        log.exception("import %s failed", run_id)
        if _end(run_id, attempt, ImportStatus.FAILED, None, exc.message if isinstance(exc, DomainError) else None):
            forget(key)  # a failed run cannot be applied again: its page asks for the file anew
        return
    if not report.applied and not _end(run_id, attempt, ImportStatus.REFUSED, report):
        return  # taken over meanwhile: the file is the next attempt's
    forget(key)


def take_over_stalled(stalled_after: timedelta, max_attempts: int) -> dict[str, int]:
    """Start again the imports whose worker has given no sign of life for `stalled_after`; fail those
    already started `max_attempts` times, saying why on their page.

    A worker that stops (killed, out of memory, a deploy) takes the import's open transaction with it,
    so nothing of the run was written and it can be queued again as it was. One still alive but slow
    loses the run: it finds another attempt's number on it when it next writes its progress, or
    under lock before its commit, and rolls back (execute).

    On SQLite every transaction takes the database's one write lock when it begins (app/db.py), and
    the import's holds it until its end: this sweep, waiting for that lock, never sees a run whose
    import transaction is open. It may see one whose worker is about to record how it ended once that
    transaction is gone: a refusal is recorded all the same (_end).
    """
    cutoff = now() - stalled_after
    uow = None
    try:
        with unit_of_work() as uow:
            # Locked, and skipped while locked: a run its worker is finishing, or writing progress on,
            # is not abandoned; the condition is checked again on the locked row.
            stalled = uow.session.scalars(sa.select(ImportRun).where(
                ImportRun.status == ImportStatus.RUNNING,
                sa.or_(ImportRun.heartbeat_at.is_(None), ImportRun.heartbeat_at < cutoff),
            ).order_by(ImportRun.id).with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)).all()
            outcomes = [_take_over(uow, run, stalled_after, max_attempts) for run in stalled]
    except sa.exc.OperationalError as exc:
        # SQLite: an import's transaction has held the one write lock for longer than this unit waits
        # for it (busy_timeout). Its run is alive; the next sweep looks again. Once committed, the
        # sweep's changes stand and what failed after them is not that.
        if db.engine.dialect.name != "sqlite" or "locked" not in str(exc.orig) or (uow and uow.committed):
            raise
        log.info("stalled imports: the database is busy with an import; the next sweep looks again")
        return {"restarted": 0, "failed": 0}
    for key in filter(None, (key for outcome, key in outcomes if outcome == "failed")):
        forget(key)  # after the commit: the store may be a bucket over HTTP
    return {"restarted": sum(outcome == "restarted" for outcome, _ in outcomes),
            "failed": sum(outcome == "failed" for outcome, _ in outcomes)}


def _take_over(uow: UnitOfWork, run: ImportRun, stalled_after: timedelta, max_attempts: int) -> tuple[str, str | None]:
    """Queue a stalled run again, or fail it after its last attempt: ("restarted" or "failed", the stored
    file to forget once the run has failed)."""
    if run.attempts >= max_attempts:
        minutes = max(1, round(stalled_after.total_seconds() / 60))
        run.status, run.finished_at = ImportStatus.FAILED, now()
        run.failure = (f"The worker applying it gave no sign of progress for {minutes} minute(s), "
                       f"{run.attempts} time(s): it was stopped, or the file is too much for it. "
                       f"Nothing was written; upload the file again, or split it into smaller files.")
        log.warning("import %s: stalled at attempt %s of %s; failed", run.id, run.attempts, max_attempts)
        key, run.storage_key = run.storage_key, None
        return "failed", key
    run.status, run.heartbeat_at = ImportStatus.QUEUED, None
    if run.processed_bytes:  # the stopped attempt's progress: the next one starts from nothing
        run.processed_bytes = run.added = run.changed = run.unchanged = run.refused = 0
    uow.emit("imports.apply", {"run_id": run.id})
    log.warning("import %s: attempt %s stalled; queued again", run.id, run.attempts)
    return "restarted", None


def _own(run_id: int, attempt: int, *, queued_again: bool = False) -> ImportRun:
    """The run, locked, if it is still this attempt's, TakenOver if not. With `queued_again`, a run the
    sweep queued again with no other attempt started since (a later attempt takes the next number) is
    still the attempt's: its queued job then finds it ended."""
    run = db.session.get(ImportRun, run_id, with_for_update=True, populate_existing=True)
    owned = (ImportStatus.RUNNING, ImportStatus.QUEUED) if queued_again else (ImportStatus.RUNNING,)
    if run is None or run.attempts != attempt or run.status not in owned:
        raise TakenOver(f"import {run_id} is no longer attempt {attempt}'s")
    return run


def _end(run_id: int, attempt: int, status: ImportStatus, report: Report | None,
         failure: str | None = None) -> bool:
    """Record how the attempt ended, unless the run was taken over meanwhile (then False). A refusal
    stands even if the sweep queued the run again meanwhile (on SQLite it may, between the import's
    rollback and this unit): the file's bad lines would be bad again. A failure is left to the next
    attempt: what failed (a collision, the store) may not fail again."""
    with unit_of_work():
        try:
            run = _own(run_id, attempt, queued_again=status is ImportStatus.REFUSED)
        except TakenOver:
            return False
        run.status, run.finished_at, run.failure = status, now(), failure
        if status is ImportStatus.FAILED:
            run.storage_key = None  # let go by the caller: a failed run is never applied
        if report is not None:
            _counts(run, report)
    return True


def _progress_writer(run_id: int, attempt: int):
    """How far the import has read, and that its worker lives, written beside its transaction for
    the page to show and the sweep to see; TakenOver as soon as the run is no longer this attempt's,
    so that a worker found slow stops rather than read the rest of the file for nothing.

    SQLite has one writer at a time and the import is it: there the page shows the progress only at
    the end, and the sweep cannot look at the run before the import's transaction is over anyway
    (take_over_stalled)."""
    if db.engine.dialect.name == "sqlite":
        return None
    table = ImportRun.__table__

    def write(bytes_read: int, report: Report) -> None:
        with db.engine.begin() as connection:
            mine = connection.execute(table.update().where(
                table.c.id == run_id, table.c.attempts == attempt, table.c.status == ImportStatus.RUNNING,
            ).values(processed_bytes=bytes_read, added=report.added, changed=report.changed,
                     unchanged=report.unchanged, refused=report.refused, heartbeat_at=now())).rowcount
        if not mine:
            raise TakenOver(f"import {run_id} is no longer attempt {attempt}'s")
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
