"""An import being applied tells its page how far it has come, and the takeover sweep that its worker
lives, beside its own long transaction."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.imports import services
from app.imports.models import ImportRun, ImportStatus
from app.imports.runner import Report
from app.uow import unit_of_work


@pytest.fixture
def running(app, demo):
    """A run being applied under attempt `attempts`, in an app context, on PostgreSQL (SQLite has one
    writer at a time: there is no progress write beside the import, and the page shows it at the end)."""
    def make(attempts: int) -> ImportRun:
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite has one writer at a time: no progress is written beside the import")
        user_id = db.session.scalar(sa.text("SELECT id FROM users WHERE role = 'vendor_admin'"))
        with unit_of_work() as uow:
            run = ImportRun(kind="contracts", filename="erp.csv", size=1000, status=ImportStatus.RUNNING,
                            processed_bytes=0, created_by_id=user_id, attempts=attempts)
            uow.session.add(run)
        return run

    with app.app_context():
        yield make
        db.session.remove()


def progress_of(run: ImportRun):
    with db.engine.connect() as other:  # as the page and the sweep read it, beside the import
        return tuple(other.execute(sa.select(ImportRun.processed_bytes, ImportRun.added,
                                             ImportRun.heartbeat_at.is_not(None))
                                   .where(ImportRun.id == run.id)).one())


def test_progress_is_written_while_the_import_transaction_is_open(running):
    run = running(attempts=1)
    write = services._progress_writer(run.id, 1)
    with unit_of_work() as uow:  # the import's transaction, still open while the progress is written
        uow.session.execute(sa.text("SELECT 1"))
        write(600, Report("contracts", "erp.csv", False, False, added=12))
        assert progress_of(run) == (600, 12, True)


def test_a_worker_whose_run_was_taken_over_stops_at_its_next_progress_write(running):
    """A slow worker, taken for dead, learns it at its next batch and stops reading the file for nothing;
    what it would have written as progress is not written over the attempt that took over."""
    run = running(attempts=2)  # attempt 2 took over from attempt 1
    with pytest.raises(services.TakenOver):
        services._progress_writer(run.id, 1)(600, Report("contracts", "erp.csv", False, False, added=12))
    assert progress_of(run) == (0, 0, False)
