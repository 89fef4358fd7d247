"""An import whose worker stopped is taken over: applied again once its heartbeat is stale, failed with
its reason after the last attempt, and never applied twice, even when the worker taken for dead was
only slow and finishes after the takeover."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from app.audit.models import AuditEvent
from app.clock import FixedClock, now
from app.contracts.models import CoveredSerial
from app.errors import Conflict
from app.extensions import db
from app.imports import jobs, services
from app.imports.models import ImportRun, ImportStatus
from app.imports.runner import Report
from app.scheduling import SCHEDULE, interval
from tests.imports.test_import_pages import preview, sign_in_vendor_admin
from tests.web.helpers import count, text

CONTRACTS = (Path(__file__).resolve().parents[2] / "app" / "imports" / "examples" / "contracts.csv").read_bytes()
ADDED = 3  # the serials of CONTRACTS not in the demo data
COLLIDED = "Some of these records were written by someone else while the file was read; nothing was written."


class WorkerKilled(BaseException):
    """A worker's process dying, as seen from inside it: no `except Exception` runs, nothing after it does."""


@pytest.fixture
def clock(app, monkeypatch):
    fixed = FixedClock(now())
    monkeypatch.setitem(app.extensions, "clock", fixed)
    return fixed


@pytest.fixture
def stale(app):
    """How far to move the clock for a heartbeat to be stale."""
    return timedelta(seconds=app.config["IMPORT_STALLED_AFTER"] + 1)


@pytest.fixture
def queued(app, client, demo, monkeypatch):
    """A previewed import the vendor admin asked to apply, its job not yet run (queued for a worker)."""
    token = sign_in_vendor_admin(client)
    run_id = preview(client, token, CONTRACTS)
    with monkeypatch.context() as patch:
        patch.setitem(app.extensions, "outbox_dispatch", lambda events: 0)
        assert client.post(f"/admin/imports/{run_id}/application", data={"csrf_token": token}).status_code == 303
    assert state(app, run_id)[0] is ImportStatus.QUEUED
    return run_id


def state(app, run_id: int) -> tuple[ImportStatus, int, str | None]:
    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        found = run.status, run.attempts, run.failure
        db.session.remove()
    return found


def applied_records(app) -> int:
    return count(app, AuditEvent, AuditEvent.entity_type == "import", AuditEvent.action == "applied")


def sweep(app) -> dict[str, int]:
    with app.app_context():
        outcome = jobs.take_over_stalled_imports()
        db.session.remove()
    return outcome


def execute(app, run_id: int) -> None:
    with app.app_context():
        services.execute(run_id)
        db.session.remove()


def collide(*args, **kwargs):
    """An import that fails the way one does when someone else wrote its records meanwhile."""
    raise Conflict(COLLIDED)


def execute_and_die(app, monkeypatch, run_id: int) -> None:
    """Run the import's job and kill its worker after the first batch was written in its transaction."""
    real = services.run_import

    def dying(*args, on_progress=None, **kwargs):
        def progress(bytes_read, report):
            if on_progress:
                on_progress(bytes_read, report)
            raise WorkerKilled

        return real(*args, on_progress=progress, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(services, "run_import", dying)
        with app.app_context():
            with pytest.raises(WorkerKilled):
                services.execute(run_id)
            db.session.remove()


def test_a_run_whose_worker_died_is_applied_again_once_its_heartbeat_is_stale(app, client, queued, clock, stale,
                                                                               monkeypatch):
    serials, records = count(app, CoveredSerial), applied_records(app)
    execute_and_die(app, monkeypatch, queued)
    assert state(app, queued)[:2] == (ImportStatus.RUNNING, 1)
    assert count(app, CoveredSerial) == serials  # the worker's transaction died with it

    clock.advance(seconds=stale.total_seconds())
    assert sweep(app) == {"restarted": 1, "failed": 0}  # and its job, queued again, has run

    assert state(app, queued) == (ImportStatus.APPLIED, 2, None)
    assert count(app, CoveredSerial) == serials + ADDED
    assert applied_records(app) == records + 1
    assert sweep(app) == {"restarted": 0, "failed": 0}
    page = text(client.get(f"/admin/imports/{queued}"))
    assert "Applied at attempt 2 of 3" in page and "Applying" not in page


def test_a_run_with_a_fresh_heartbeat_is_left_alone(app, client, queued, clock, stale, monkeypatch):
    execute_and_die(app, monkeypatch, queued)
    clock.advance(seconds=stale.total_seconds() - 2)
    assert sweep(app) == {"restarted": 0, "failed": 0}
    assert state(app, queued)[:2] == (ImportStatus.RUNNING, 1)
    page = text(client.get(f"/admin/imports/{queued}"))
    assert "Applying" in page and 'id="restarts"' not in page


def test_after_its_last_attempt_stalls_the_run_fails_and_its_page_says_why(app, client, queued, clock, stale,
                                                                            monkeypatch):
    serials = count(app, CoveredSerial)
    monkeypatch.setitem(app.extensions, "outbox_dispatch", lambda events: 0)  # each attempt run by hand below
    for attempt in (1, 2):
        execute_and_die(app, monkeypatch, queued)
        clock.advance(seconds=stale.total_seconds())
        assert sweep(app) == {"restarted": 1, "failed": 0}
        assert state(app, queued)[:2] == (ImportStatus.QUEUED, attempt)
        page = text(client.get(f"/admin/imports/{queued}"))
        assert "Applying" in page and f"so it is being applied again: attempt {attempt + 1} of 3" in page

    execute_and_die(app, monkeypatch, queued)
    clock.advance(seconds=stale.total_seconds())
    assert sweep(app) == {"restarted": 0, "failed": 1}
    status, attempts, failure = state(app, queued)
    assert (status, attempts) == (ImportStatus.FAILED, 3)
    assert "no sign of progress for 10 minute(s), 3 time(s)" in failure and "Nothing was written" in failure
    assert count(app, CoveredSerial) == serials
    assert sweep(app) == {"restarted": 0, "failed": 0}
    execute(app, queued)  # a job of the run's that comes late does nothing
    assert state(app, queued)[:2] == (ImportStatus.FAILED, 3)

    page = text(client.get(f"/admin/imports/{queued}"))
    assert failure.split(":")[0] in page and "Applying" not in page
    assert '<meta http-equiv="refresh"' not in page


def test_a_slow_worker_that_finishes_after_a_takeover_writes_nothing(app, client, queued, clock, stale, monkeypatch):
    """The worker is alive, its transaction open with the file's rows in it, when the sweep takes its
    run over; then it reaches its commit."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite: the import's transaction holds the one write lock, so no sweep runs beside it "
                        "(a takeover outside that transaction is the next test)")
    serials, records = count(app, CoveredSerial), applied_records(app)
    real = services.run_import
    outcomes: list = []

    def takeover_while_open():
        try:
            clock.advance(seconds=stale.total_seconds())
            outcomes.append(sweep(app))
        except Exception as exc:  # seen by the assertion below, in the test's own thread
            outcomes.append(exc)

    def slow(*args, before_commit, **kwargs):
        def late_finish(report):
            other = threading.Thread(target=takeover_while_open)
            other.start()
            other.join(timeout=60)
            before_commit(report)

        return real(*args, before_commit=late_finish, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(services, "run_import", slow)
        # The next attempt waits until the slow one is over: it would wait on its rows anyway.
        patch.setitem(app.extensions, "outbox_dispatch", lambda events: 0)
        execute(app, queued)

    assert outcomes == [{"restarted": 1, "failed": 0}]
    assert state(app, queued)[:2] == (ImportStatus.QUEUED, 1)
    assert count(app, CoveredSerial) == serials and applied_records(app) == records

    execute(app, queued)  # the attempt that took over
    assert state(app, queued) == (ImportStatus.APPLIED, 2, None)
    assert count(app, CoveredSerial) == serials + ADDED and applied_records(app) == records + 1


@contextmanager
def taken_over_during_the_copy(app, clock, stale, monkeypatch, outcomes: list):
    """The worker's file copy (no transaction open) is slow enough for the sweep to take its run over."""
    real = services._local_copy

    @contextmanager
    def slow_copy(key):
        with real(key) as stream:
            clock.advance(seconds=stale.total_seconds())
            outcomes.append(jobs.take_over_stalled_imports())
            yield stream

    with monkeypatch.context() as patch:
        patch.setattr(services, "_local_copy", slow_copy)
        patch.setitem(app.extensions, "outbox_dispatch", lambda events: 0)
        yield patch


def test_a_worker_taken_over_while_it_copied_its_file_writes_nothing(app, queued, clock, stale, monkeypatch):
    serials, records, outcomes = count(app, CoveredSerial), applied_records(app), []
    with taken_over_during_the_copy(app, clock, stale, monkeypatch, outcomes):
        execute(app, queued)
    assert outcomes == [{"restarted": 1, "failed": 0}]
    assert state(app, queued)[:2] == (ImportStatus.QUEUED, 1)
    assert count(app, CoveredSerial) == serials and applied_records(app) == records

    execute(app, queued)
    assert state(app, queued) == (ImportStatus.APPLIED, 2, None)
    assert count(app, CoveredSerial) == serials + ADDED and applied_records(app) == records + 1


def test_a_worker_taken_over_that_then_fails_leaves_the_run_to_the_next_attempt(app, queued, clock, stale,
                                                                                 monkeypatch):
    outcomes = []
    with taken_over_during_the_copy(app, clock, stale, monkeypatch, outcomes) as patch:
        patch.setattr(services, "run_import", collide)
        execute(app, queued)
    assert outcomes == [{"restarted": 1, "failed": 0}]
    assert state(app, queued) == (ImportStatus.QUEUED, 1, None)  # not failed by the attempt it no longer owns


def test_a_failed_import_says_why_on_its_page_and_its_file_is_let_go(app, client, queued, monkeypatch):
    forgotten = []
    monkeypatch.setattr(services, "forget", forgotten.append)
    key = stored_file(app, queued)
    with monkeypatch.context() as patch:
        patch.setattr(services, "run_import", collide)
        execute(app, queued)
    assert state(app, queued) == (ImportStatus.FAILED, 1, COLLIDED)
    assert COLLIDED in text(client.get(f"/admin/imports/{queued}"))
    assert forgotten == [key] and stored_file(app, queued) is None  # the page asks for the file anew


def test_a_run_failed_by_the_sweep_lets_its_file_go(app, queued, clock, stale, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ATTEMPTS", 1)
    forgotten = []
    monkeypatch.setattr(services, "forget", forgotten.append)
    key = stored_file(app, queued)
    execute_and_die(app, monkeypatch, queued)
    clock.advance(seconds=stale.total_seconds())
    assert sweep(app) == {"restarted": 0, "failed": 1}
    assert forgotten == [key] and stored_file(app, queued) is None


def test_a_refusal_recorded_after_the_sweep_queued_the_run_again_stands(app, client, queued, clock, stale,
                                                                         monkeypatch):
    """On SQLite the sweep may get the write lock between the import's rollback (bad lines) and the unit
    that records the refusal; the refusal is still the attempt's to record, and the queued job then
    finds the run ended."""
    outcomes = []

    def refused_then_swept(kind_name, stream, filename, **kwargs):
        clock.advance(seconds=stale.total_seconds())
        outcomes.append(jobs.take_over_stalled_imports())
        return Report(kind_name, filename, False, False, refused=1, errors=[f"{filename}:2: a bad line"])

    with monkeypatch.context() as patch:
        patch.setattr(services, "run_import", refused_then_swept)
        patch.setitem(app.extensions, "outbox_dispatch", lambda events: 0)
        execute(app, queued)
    assert outcomes == [{"restarted": 1, "failed": 0}]
    assert state(app, queued) == (ImportStatus.REFUSED, 1, None)
    execute(app, queued)  # the job the sweep queued
    assert state(app, queued) == (ImportStatus.REFUSED, 1, None)
    assert "a bad line" in text(client.get(f"/admin/imports/{queued}"))


def test_a_stopped_attempts_progress_is_not_shown_as_the_next_ones(app, client, queued, clock, stale, monkeypatch):
    execute_and_die(app, monkeypatch, queued)
    with app.app_context():  # as the progress writer leaves it, where it runs (PostgreSQL)
        run = db.session.get(ImportRun, queued)
        run.processed_bytes = run.size // 2
        db.session.commit()
        db.session.remove()
    clock.advance(seconds=stale.total_seconds())
    monkeypatch.setitem(app.extensions, "outbox_dispatch", lambda events: 0)
    assert sweep(app) == {"restarted": 1, "failed": 0}
    assert 'id="progress" max="100" value="0"' in text(client.get(f"/admin/imports/{queued}"))


def stored_file(app, run_id: int) -> str | None:
    with app.app_context():
        key = db.session.get(ImportRun, run_id).storage_key
        db.session.remove()
    return key


def test_the_takeover_is_a_periodic_job(app):
    periodic = next(p for p in SCHEDULE if p.job == "app.imports.jobs.take_over_stalled_imports")
    assert (periodic.name, periodic.every, periodic.embedded) == ("stalled-imports", "IMPORT_SWEEP_INTERVAL", True)
    assert interval(periodic, app.config) == 60
    assert (app.config["IMPORT_STALLED_AFTER"], app.config["IMPORT_MAX_ATTEMPTS"]) == (600, 3)
