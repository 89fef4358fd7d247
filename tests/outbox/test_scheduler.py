"""The periodic jobs: enqueued once per interval however many schedulers run (real Redis), run by a real
RQ worker, and run in-process on the embedded default."""
from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue
from rq.job import Job

from app import create_app
from app.clock import now
from app.extensions import db
from app.idempotency.models import IdempotencyRecord
from app.outbox.dispatch import SCHEDULED_QUEUE
from app.scheduling import SCHEDULE
from app.scheduling.in_process import InProcessScheduler
from app.scheduling.on_rq import make_scheduler
from tests.outbox.conftest import ROOT, process_env, run_worker, wait_until

QUEUES = sorted({periodic.queue for periodic in SCHEDULE})
INTERVAL = 2  # every job, in these tests
FAST = {periodic.every: INTERVAL for periodic in SCHEDULE}


def queued(redis_url: str) -> list[str]:
    """Every job id on the schedule's queues, as many times as it is queued."""
    connection = Redis.from_url(redis_url)
    return [job_id for name in QUEUES for job_id in Queue(name, connection=connection).get_job_ids()]


def expired_idempotency_record(application, user_id: int) -> int:
    with application.app_context():
        record = IdempotencyRecord(user_id=user_id, key="old", request_hash="0" * 64, status_code=201,
                                   response={}, created_at=now() - timedelta(days=3))
        db.session.add(record)
        db.session.commit()
        return record.id


def idempotency_records(application) -> int:
    with application.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyRecord))


def test_two_schedulers_started_at_once_enqueue_each_job_once_per_interval(jobs_app, redis_server):
    application = jobs_app(redis_server.url)
    env = {**process_env(application), **{setting: str(INTERVAL) for setting in FAST}}
    schedulers = [subprocess.Popen([sys.executable, "-m", "flask", "scheduler"], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                  for _ in range(2)]
    connection = Redis.from_url(redis_server.url)
    try:
        def both_running():
            """both schedulers to register with RQ"""
            assert all(s.poll() is None for s in schedulers), [s.stderr.read()[-2000:] for s in schedulers]
            return connection.zcard("rq:cron_schedulers") == 2
        wait_until(both_running, timeout=60)
        both_since = time.time()
        time.sleep(3 * INTERVAL + 1)
        both_until = time.time()
    finally:
        for scheduler in schedulers:
            scheduler.send_signal(signal.SIGTERM)
        for scheduler in schedulers:
            scheduler.wait(timeout=30)

    entries = queued(redis_server.url)
    assert len(entries) == len(set(entries)), f"a job queued twice: {Counter(entries).most_common(3)}"
    slots: dict[str, set[int]] = {}
    for entry in entries:
        assert entry.startswith("scheduled-"), entry
        name, slot = entry.removeprefix("scheduled-").rsplit("-", 1)
        slots.setdefault(name, set()).add(int(slot))
    assert set(slots) == {periodic.name for periodic in SCHEDULE}
    # Every slot that began (with half a second to spare) while both ran: exactly one job each.
    while_both = set(range(math.ceil(both_since / INTERVAL), math.floor((both_until - 0.5) / INTERVAL) + 1))
    assert len(while_both) >= 3
    for name, seen in slots.items():
        assert while_both <= seen, f"{name}: slots {sorted(while_both - seen)} were not enqueued"
    for periodic in SCHEDULE:
        job = Job.fetch(f"scheduled-{periodic.name}-{max(slots[periodic.name])}", connection=connection)
        assert job.origin == periodic.queue and job.func_name == periodic.job


def test_the_scheduled_jobs_run_through_the_procfiles_worker_that_does_not_fork(jobs_app, redis_server, demo):
    application = jobs_app(redis_server.url)
    # Day-long slots: on a loaded machine the two passes below could otherwise straddle a slot's end.
    application.config.update({periodic.every: 86_400 for periodic in SCHEDULE})
    expired_idempotency_record(application, demo["engineer"].id)
    scheduler = make_scheduler(application, Redis.from_url(redis_server.url))

    enqueued = scheduler.enqueue_jobs()
    assert [job.name for job in enqueued] == [periodic.name for periodic in SCHEDULE]
    ids = queued(redis_server.url)
    assert len(ids) == len(SCHEDULE)
    assert scheduler.enqueue_jobs() == []  # nothing due again within the slot
    assert QUEUES == [SCHEDULED_QUEUE]

    run_worker(application, "--queues", SCHEDULED_QUEUE, "--no-fork")

    connection = Redis.from_url(redis_server.url)
    for job_id in ids:
        job = Job.fetch(job_id, connection=connection)
        assert job.get_status() == "finished", (job_id, job.latest_result() and job.latest_result().exc_string)
    assert queued(redis_server.url) == []
    assert idempotency_records(application) == 0  # the purge ran


def test_the_embedded_default_runs_them_in_process_and_stops(app, demo, tmp_path):
    # The embedded default as create_app builds it: no Redis, jobs in-process, the timer thread on.
    application = create_app({"REDIS_URL": None, "JOBS_EAGER": False, "SCHEDULER_IN_PROCESS": True, **FAST},
                             instance_path=str(tmp_path / "instance"))
    expired_idempotency_record(application, demo["engineer"].id)
    scheduler = application.extensions["scheduler"]
    assert isinstance(scheduler, InProcessScheduler)
    embedded = {periodic.name for periodic in SCHEDULE if periodic.embedded}
    assert "outbox-relay" not in embedded  # the in-process dispatcher drains the outbox itself
    try:
        assert not scheduler.running  # nothing before the first request (CLI commands run no jobs)
        assert application.test_client().get("/healthz").status_code == 200
        assert scheduler.running

        def every_job_ran_twice():
            """every embedded job to run twice"""
            return all(scheduler.runs[name] >= 2 for name in embedded)
        wait_until(every_job_ran_twice, timeout=30)
        assert set(scheduler.runs) == embedded
        assert idempotency_records(application) == 0  # the purge ran
    finally:
        scheduler.stop()
        application.extensions["outbox_dispatch"].close()
    assert not scheduler.running
    stopped_at = dict(scheduler.runs)
    time.sleep(INTERVAL + 0.5)
    assert dict(scheduler.runs) == stopped_at
    with application.app_context():
        db.engine.dispose()


def test_the_scheduler_needs_redis_and_says_so(jobs_app):
    result = jobs_app(None).test_cli_runner().invoke(args=["scheduler"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


@pytest.mark.parametrize("periodic", SCHEDULE, ids=lambda p: p.name)
def test_every_job_has_a_setting_for_its_interval(app, periodic):
    assert int(app.config[periodic.every]) >= 1
