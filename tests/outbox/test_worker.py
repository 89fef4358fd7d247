"""`flask worker`: each job runs in a forked work-horse with its own database connection, or with
--no-fork in the worker itself, on connections kept from one job to the next."""
from __future__ import annotations

import json
import os

import sqlalchemy as sa
from redis import Redis

from app.extensions import db
from app.outbox.dispatch import DEFAULT_QUEUE, queue_for
from app.outbox.models import OutboxEvent
from app.outbox.worker import AppWorker, WarmWorker
from app.uow import unit_of_work


def record_connection(uow, payload: dict) -> None:
    """Probe handler: which database connection (by identity) the job's session uses."""
    connection = db.session.connection().connection.dbapi_connection
    with open(payload["path"], "w") as out:
        json.dump({"connection": id(connection), "process": os.getpid(),
                   "rows": db.session.execute(sa.text("SELECT 1")).scalar()}, out)


PROBE = "probe.connection"


def test_work_horse_opens_its_own_connection_and_the_parent_keeps_working(
        jobs_app, redis_server, tmp_path):
    application = jobs_app(redis_server.url)
    # Handlers are per application: this one exists only on the app built here.
    application.extensions["outbox_handlers"][PROBE] = record_connection
    assert queue_for(PROBE) == DEFAULT_QUEUE
    report = tmp_path / "report.json"
    with application.app_context():
        parent_connection = id(db.session.connection().connection.dbapi_connection)
        db.session.commit()  # back to the pool, where a careless child would pick it up
        with unit_of_work() as uow:
            event = uow.emit(PROBE, {"path": str(report)})

        worker = AppWorker([DEFAULT_QUEUE], connection=Redis.from_url(redis_server.url))
        assert worker.work(burst=True) is True

        seen = json.loads(report.read_text())
        assert seen == {"connection": seen["connection"], "process": seen["process"], "rows": 1}
        assert seen["connection"] != parent_connection and seen["process"] != os.getpid()
        assert db.session.scalar(sa.text("SELECT 1")) == 1  # the parent's connection survived
        db.session.expire_all()
        assert db.session.get(OutboxEvent, event.id).processed_at is not None


def test_a_worker_that_does_not_fork_runs_each_job_itself_on_a_connection_kept_between_jobs(
        jobs_app, redis_server, tmp_path):
    application = jobs_app(redis_server.url)
    application.extensions["outbox_handlers"][PROBE] = record_connection
    reports = [tmp_path / "first.json", tmp_path / "second.json"]
    with application.app_context():
        with unit_of_work() as uow:
            events = [uow.emit(PROBE, {"path": str(report)}) for report in reports]
        db.session.remove()

        worker = WarmWorker([DEFAULT_QUEUE], connection=Redis.from_url(redis_server.url))
        assert worker.work(burst=True) is True

        first, second = (json.loads(report.read_text()) for report in reports)
        assert first["process"] == second["process"] == os.getpid()
        assert first["connection"] == second["connection"]  # the pool kept it: no new connection per job
        assert all(db.session.get(OutboxEvent, event.id).processed_at is not None for event in events)


def test_worker_without_redis_says_why(jobs_app):
    application = jobs_app(None)
    result = application.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output
