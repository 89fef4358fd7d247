"""With TEST_REDIS_URL (CI's PostgreSQL and Redis leg) the whole suite's jobs go through RQ.

Every feature test then has its outbox events queued on Redis by the production
RQDispatcher and run by an RQ worker before the request returns (tests/rq_path.py).
These tests check that wiring itself, so that the leg cannot quietly fall back to
running jobs in-process.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from app.extensions import db
from app.outbox.dispatch import BATCH_FLAG, queue_for
from app.outbox.models import OutboxEvent
from tests.conftest import need
from tests.rq_path import DrainingDispatcher, EventsFailed

NEW_CASE = {"serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S2",
            "title": "Port flaps on uplink", "description": "Uplink 1:49 flaps every few minutes."}


@pytest.fixture
def rq_path(app):
    dispatcher = app.extensions["outbox_dispatch"]
    need("redis", isinstance(dispatcher, DrainingDispatcher),
         "the suite's jobs go through RQ only when TEST_REDIS_URL names a Redis that answers")
    return dispatcher


def last_case_opened_event(app) -> OutboxEvent:
    with app.app_context():
        event = db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.topic == "notify.case_opened")
                                   .order_by(OutboxEvent.id.desc()).limit(1)).one()
        db.session.remove()
    return event


def one_job_per_event(app, monkeypatch) -> None:
    """Case notifications handed over one job per event, as every topic without a batch form is."""
    monkeypatch.delitem(app.extensions["outbox_batch_handlers"], "notify.case_opened")


def test_a_request_returns_once_rq_has_run_its_jobs(app, client, tokens, rq_path, monkeypatch):
    one_job_per_event(app, monkeypatch)
    answer = client.post("/api/v1/cases", json=NEW_CASE, headers=tokens["engineer"])
    assert answer.status_code == 201, answer.json

    event = last_case_opened_event(app)
    assert event.payload["case_id"] == answer.json["id"]
    assert event.processed_at is not None and event.enqueued_at is not None
    job = Job.fetch(f"outbox-{event.id}", connection=rq_path.redis)
    assert job.get_status() is JobStatus.FINISHED
    assert (job.func_name, job.args, job.origin) == (
        "app.outbox.jobs.run_outbox_event", (event.id,), queue_for("notify.case_opened"))
    assert job.worker_name  # taken by an RQ worker, not run in place
    assert Queue(job.origin, connection=rq_path.redis).count == 0


def test_a_failing_job_fails_the_request_that_committed_its_event(app, client, tokens, rq_path, monkeypatch):
    one_job_per_event(app, monkeypatch)

    def refuse(uow, payload):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setitem(app.extensions["outbox_handlers"], "notify.case_opened", refuse)
    with pytest.raises(ConnectionRefusedError, match="mail server down"):
        client.post("/api/v1/cases", json=NEW_CASE, headers=tokens["engineer"])

    event = last_case_opened_event(app)
    assert event.processed_at is None and event.attempts == 1
    assert "mail server down" in event.last_error
    retries = ScheduledJobRegistry(queue_for("notify.case_opened"), connection=rq_path.redis)
    assert retries.get_job_ids() == [f"outbox-{event.id}"]  # RQ tries it again later, as in production


def test_an_event_failing_in_a_batch_job_fails_the_request_although_alone_it_then_succeeds(
        app, client, tokens, rq_path, monkeypatch):
    def refuse_all(uow, events):
        raise ConnectionRefusedError("digest refused")

    monkeypatch.setitem(app.extensions["outbox_batch_handlers"], "notify.payments.claim", refuse_all)
    created = client.post("/api/v1/claims", headers=tokens["admin"], json={
        "type": "rebate", "amount": 50_000, "currency": "USD", "period": "2026-Q3", "description": "Q3 rebate"})
    assert created.status_code == 201, created.json
    with pytest.raises(EventsFailed, match="notify.payments.claim.*digest refused"):
        client.post(f"/api/v1/claims/{created.json['id']}/submit", headers=tokens["admin"])

    with app.app_context():
        (event,) = [event for event in db.session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.topic == "notify.payments.claim"))
            if event.payload == {"claim_id": created.json["id"], "event": "submitted"}]
        db.session.remove()
    # Production logs the batch's failure and hands the event over alone, where it succeeds.
    assert event.processed_at is not None and event.attempts == 2 and "digest refused" in event.last_error


def test_a_commit_whose_event_no_job_takes_fails_naming_it(app, client, tokens, rq_path, monkeypatch):
    """An event of the commit still pending once the queues are empty (here: its batch job was
    never queued, as if another one's flag were still set) fails the commit with its name."""
    monkeypatch.setattr("tests.rq_path.SETTLE_TIMEOUT", 2)
    rq_path.redis.set(BATCH_FLAG.format(topic="notify.case_opened"), "1", ex=30)
    with pytest.raises(EventsFailed, match=r"notify\.case_opened\): attempts 0"):
        client.post("/api/v1/cases", json=NEW_CASE, headers=tokens["engineer"])
