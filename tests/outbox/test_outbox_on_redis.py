"""The outbox on RQ: nothing a committed change emits is lost or delivered twice.

Real redis-server, real RQ workers (`flask worker --burst` in its own process,
or the same worker class run from the test, forking a work-horse per job), a
real SMTP server; the partner's engineers get one e-mail per opened case.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from app.clock import FixedClock, now
from app.outbox.dispatch import SERVER_MARK, queue_for
from tests.outbox.conftest import (ROOT, case_opened_event, outbox_event, process_env, relay_once,
                                 run_worker, work_queues)
from tests.outbox.open_case_then_crash import CRASHED

NEW_CASE = {"serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S2",
            "title": "Port flaps on uplink", "description": "Uplink 1:49 flaps every few minutes."}
NOTIFICATIONS = queue_for("notify.case_opened")


def one_job_per_event(jobs_app, redis_url: str):
    """An application that hands case notifications to RQ one job per event, as it hands every topic
    without a batch form, and an event that failed in a batch."""
    application = jobs_app(redis_url)
    application.extensions["outbox_batch_handlers"] = {
        topic: handler for topic, handler in application.extensions["outbox_batch_handlers"].items()
        if topic != "notify.case_opened"}
    return application


def open_case(application, headers) -> int:
    answer = application.test_client().post("/api/v1/cases", json=NEW_CASE, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def queued_job_ids(redis_url: str) -> list[str]:
    return Queue(NOTIFICATIONS, connection=Redis.from_url(redis_url)).job_ids


def test_case_opened_is_queued_after_commit_and_mailed_once(jobs_app, redis_server, mailbox, tokens):
    application = one_job_per_event(jobs_app, redis_server.url)
    case_id = open_case(application, tokens["engineer"])

    event = case_opened_event(application, case_id)
    assert event.enqueued_at is not None and event.processed_at is None
    assert queued_job_ids(redis_server.url) == [f"outbox-{event.id}"]

    run_worker(application)

    [mail] = mailbox.about_case(case_id)
    assert mail["X-Envelope-To"] == "engineer@northwind.example, admin@northwind.example"
    assert "Acme Corp" in mail["Subject"] and "Port flaps on uplink" in mail["Subject"]
    assert f"https://triage.example/cases/{case_id}" in mail.get_content()
    assert outbox_event(application, event.id).processed_at is not None
    assert relay_once(application) == ""
    work_queues(application)
    assert len(mailbox.about_case(case_id)) == 1


def test_case_opened_while_redis_is_down_is_mailed_once_redis_is_back(
        jobs_app, redis_server, mailbox, tokens):
    application = one_job_per_event(jobs_app, redis_server.url)
    redis_server.stop()

    case_id = open_case(application, tokens["engineer"])

    event = case_opened_event(application, case_id)
    assert event.enqueued_at is None and event.processed_at is None
    redis_server.start()
    work_queues(application)
    assert mailbox.about_case(case_id) == []  # nothing reached the queue while Redis was down

    assert relay_once(application) == "relayed 1 event(s)\n"
    assert outbox_event(application, event.id).enqueued_at is not None
    delivered_once(application, mailbox, case_id, event.id)


def delivered_once(application, mailbox, case_id: int, event_id: int) -> None:
    """A worker sends the case's one e-mail; a later relay pass and worker send nothing more."""
    run_worker(application)
    assert len(mailbox.about_case(case_id)) == 1

    assert relay_once(application) == ""
    work_queues(application)
    assert len(mailbox.about_case(case_id)) == 1
    delivered = outbox_event(application, event_id)
    assert delivered.processed_at is not None and delivered.attempts == 1


def crash_while_opening_case(application, point: str) -> int:
    """Open a case in another process that dies at `point`; returns the case's event id."""
    crashed = subprocess.run([sys.executable, "-m", "tests.outbox.open_case_then_crash", point],
                             cwd=ROOT, env=process_env(application), capture_output=True,
                             text=True, timeout=120)
    assert crashed.returncode == CRASHED, crashed.stderr[-4000:]
    [event_id] = json.loads(crashed.stdout.strip().splitlines()[-1])
    return event_id


def test_crash_between_commit_and_enqueue_loses_nothing(jobs_app, redis_server, mailbox, tokens):
    application = one_job_per_event(jobs_app, redis_server.url)
    event_id = crash_while_opening_case(application, "after-commit")

    event = outbox_event(application, event_id)
    case_id = event.payload["case_id"]
    seen = application.test_client().get(f"/api/v1/cases/{case_id}", headers=tokens["engineer"])
    assert seen.status_code == 200  # the change itself was committed
    assert event.enqueued_at is None and queued_job_ids(redis_server.url) == []

    assert relay_once(application) == "relayed 1 event(s)\n"
    work_queues(application)
    assert len(mailbox.about_case(case_id)) == 1
    assert relay_once(application) == ""
    work_queues(application)
    assert len(mailbox.about_case(case_id)) == 1


def test_crash_between_enqueue_and_marking_delivers_once(jobs_app, redis_server, mailbox, tokens):
    application = one_job_per_event(jobs_app, redis_server.url)
    event_id = crash_while_opening_case(application, "after-enqueue")
    event = outbox_event(application, event_id)
    case_id = event.payload["case_id"]
    assert event.enqueued_at is None
    assert queued_job_ids(redis_server.url) == [f"outbox-{event_id}"]

    # The relay cannot know the job is already queued: the same job is queued twice.
    assert relay_once(application) == "relayed 1 event(s)\n"
    assert queued_job_ids(redis_server.url) == [f"outbox-{event_id}"] * 2
    work_queues(application)

    assert len(mailbox.about_case(case_id)) == 1
    job = Queue(NOTIFICATIONS, connection=Redis.from_url(redis_server.url)).fetch_job(f"outbox-{event_id}")
    # Both copies ran: the first sent the mail, the second found the event processed.
    assert sorted(result.return_value for result in job.results()) == [False, True]
    assert outbox_event(application, event_id).attempts == 1


def test_failed_delivery_is_recorded_and_retried_later(jobs_app, redis_server, mailbox, tokens):
    application = one_job_per_event(jobs_app, redis_server.url)
    mailbox.refuse_next = 1
    case_id = open_case(application, tokens["engineer"])
    event_id = case_opened_event(application, case_id).id

    work_queues(application)

    failed = outbox_event(application, event_id)
    assert failed.processed_at is None and failed.attempts == 1
    assert "SMTPDataError" in failed.last_error and "temporarily unavailable" in failed.last_error
    assert mailbox.about_case(case_id) == []
    # RQ holds the job for its own retry; the relay leaves it alone meanwhile.
    connection = Redis.from_url(redis_server.url)
    scheduled = ScheduledJobRegistry(queue=Queue(NOTIFICATIONS, connection=connection))
    assert f"outbox-{event_id}" in scheduled.get_job_ids()
    assert relay_once(application) == ""

    # Long after, the event is still not processed (say RQ lost the job): the relay hands it over.
    application.extensions["clock"] = FixedClock(now() + timedelta(minutes=11))
    assert relay_once(application) == "relayed 1 event(s)\n"
    work_queues(application)

    assert len(mailbox.about_case(case_id)) == 1
    delivered = outbox_event(application, event_id)
    assert delivered.processed_at is not None and delivered.attempts == 2


def test_jobs_lost_with_a_redis_restart_are_handed_over_again_at_once(jobs_app, redis_server, mailbox, tokens):
    application = one_job_per_event(jobs_app, redis_server.url)
    assert relay_once(application) == ""  # the relay has seen this Redis
    case_id = open_case(application, tokens["engineer"])
    event = case_opened_event(application, case_id)
    assert queued_job_ids(redis_server.url) == [f"outbox-{event.id}"]

    redis_server.stop()
    assert relay_once(application) == ""  # Redis down: the relay carries on
    redis_server.start()  # without persistence: the queued job is gone
    assert queued_job_ids(redis_server.url) == []

    # No clock moved: the relay does not wait for the ten-minute redelivery.
    assert relay_once(application) == "relayed 1 event(s)\n"
    assert queued_job_ids(redis_server.url) == [f"outbox-{event.id}"]
    delivered_once(application, mailbox, case_id, event.id)


def test_a_job_redis_still_holds_is_not_queued_twice(jobs_app, redis_server, mailbox, tokens):
    application = one_job_per_event(jobs_app, redis_server.url)
    case_id = open_case(application, tokens["engineer"])
    event = case_opened_event(application, case_id)

    # The relay's first look at this Redis, then a server that came back from its snapshot.
    assert relay_once(application) == ""
    Redis.from_url(redis_server.url).set(SERVER_MARK, "an-earlier-server")
    assert relay_once(application) == ""

    assert queued_job_ids(redis_server.url) == [f"outbox-{event.id}"]
    run_worker(application)
    assert len(mailbox.about_case(case_id)) == 1
