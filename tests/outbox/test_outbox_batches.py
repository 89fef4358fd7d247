"""Batched topics on RQ: the events of a busy topic run many to a job, and nothing is lost.

Real redis-server, RQ work-horses forked per job, a real SMTP server. The claims
of a quarter approved at once reach the partner as one digest per kind of
event, and their payouts go to the provider (here the bank-file adapter) in one
call, whether the hand-off happened at commit or, with Redis down, by the relay.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from redis import Redis
from rq import Queue

from app.clock import now
from app.extensions import db
from app.outbox.dispatch import queue_for
from app.outbox.models import OutboxEvent
from app.payments.models import Payout, PayoutStatus
from tests.outbox.conftest import relay_once, work_queues

CLAIM = {"type": "rebate", "currency": "USD", "period": "2026-Q3", "description": "Q3 rebate"}


def _bulk_approved_claims(application, tokens, n: int) -> list[int]:
    client = application.test_client()
    claim_ids = []
    for k in range(n):
        created = client.post("/api/v1/claims", json={**CLAIM, "amount": 10_000 + k}, headers=tokens["admin"])
        assert created.status_code == 201, created.json
        claim_ids.append(created.json["id"])
        assert client.post(f"/api/v1/claims/{claim_ids[-1]}/submit", headers=tokens["admin"]).status_code == 200
    approved = client.post("/api/v1/claims/approvals", json={"claim_ids": claim_ids}, headers=tokens["programs"])
    assert approved.status_code == 200, approved.json
    return claim_ids


def _batch_app(jobs_app, redis_url):
    application = jobs_app(redis_url)
    application.config.update(PAYMENTS_PROVIDER="pain001", PAYMENTS_SECOND_APPROVAL_ABOVE=10**12,
                              OUTBOX_BATCH_LINGER_MS=0)
    return application


def _queued_jobs(redis_url: str) -> list[str]:
    connection = Redis.from_url(redis_url)
    return [job.func_name for name in {queue_for("notify.payments.claim"), queue_for("payments.execute")}
            for job in Queue(name, connection=connection).jobs]


def _digests(mailbox, subject_part: str) -> list:
    return [m for m in mailbox.messages if subject_part in m["Subject"]]


def _payout_statuses(application) -> set[PayoutStatus]:
    with application.app_context():
        return set(db.session.scalars(sa.select(Payout.status)))


def test_a_quarter_approved_at_once_is_one_job_per_topic_and_one_digest_per_kind(
        jobs_app, redis_server, mailbox, tokens):
    application = _batch_app(jobs_app, redis_server.url)
    claim_ids = _bulk_approved_claims(application, tokens, 4)

    # Eight claim e-mails and four payouts to send, yet one job per topic was queued.
    assert sorted(_queued_jobs(redis_server.url)) == ["app.outbox.jobs.run_outbox_batch"] * 2
    work_queues(application)

    [submitted] = _digests(mailbox, "4 claims: each was submitted for approval")
    [approved] = _digests(mailbox, "4 claims: each was approved; its payout has started")
    for claim_id in claim_ids:
        assert f"/payments/claims/{claim_id}" in approved.get_content()
    assert "admin@northwind.example" in approved["X-Envelope-To"]
    assert "programs@vendor.example" in submitted["X-Envelope-To"]
    assert _payout_statuses(application) == {PayoutStatus.IN_TRANSIT}
    with application.app_context():
        unprocessed = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)
                                        .where(OutboxEvent.processed_at.is_(None)))
    assert unprocessed == 0
    work_queues(application)
    assert len(mailbox.messages) == 2  # nothing ran twice


def test_with_redis_down_the_relay_hands_the_batch_over_once_redis_is_back(jobs_app, redis_server, mailbox, tokens):
    application = _batch_app(jobs_app, redis_server.url)
    redis_server.stop()
    _bulk_approved_claims(application, tokens, 3)
    redis_server.start()
    work_queues(application)
    assert mailbox.messages == [] and _payout_statuses(application) == {PayoutStatus.PENDING}

    assert relay_once(application).startswith("relayed ")
    work_queues(application)

    assert len(_digests(mailbox, "3 claims: each was approved")) == 1
    assert _payout_statuses(application) == {PayoutStatus.IN_TRANSIT}


def test_a_refused_digest_fails_only_its_own_events_which_then_go_one_by_one(
        jobs_app, redis_server, mailbox, tokens):
    application = _batch_app(jobs_app, redis_server.url)
    with application.app_context():
        seeded = db.session.scalar(sa.select(sa.func.max(OutboxEvent.id)))
    mailbox.refuse_next = 1  # the first digest (the submissions) is refused
    claim_ids = _bulk_approved_claims(application, tokens, 2)
    work_queues(application)  # the refused events get a job each, which this burst runs too

    assert len(_digests(mailbox, "2 claims: each was approved")) == 1  # sent once, not again one by one
    assert _digests(mailbox, "claims: each was submitted") == []
    singles = sorted(m["Subject"] for m in mailbox.messages if m["Subject"].startswith("[Claim "))
    assert singles == sorted(f"[Claim {claim_id}] was submitted for approval" for claim_id in claim_ids)
    with application.app_context():
        events = db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.topic == "notify.payments.claim",
                                                                 OutboxEvent.id > seeded)).all()
        assert len(events) == 4 and all(event.processed_at is not None for event in events)
        retried = [event for event in events if event.attempts == 2]
        assert len(retried) == 2 and all("451" in event.last_error for event in retried)
    work_queues(application)
    assert len(mailbox.messages) == 3
    assert _payout_statuses(application) == {PayoutStatus.IN_TRANSIT}


def test_an_event_whose_own_job_was_lost_long_ago_is_taken_up_by_a_batch(jobs_app, redis_server, mailbox, tokens):
    application = _batch_app(jobs_app, redis_server.url)
    _bulk_approved_claims(application, tokens, 1)
    redis_server.stop()  # the queued jobs are lost with it
    redis_server.start()
    with application.app_context():
        db.session.execute(sa.update(OutboxEvent).where(OutboxEvent.processed_at.is_(None))
                           .values(enqueued_at=now() - timedelta(hours=1)))
        db.session.commit()
    assert relay_once(application).startswith("relayed ")
    work_queues(application)
    assert _payout_statuses(application) == {PayoutStatus.IN_TRANSIT}
    assert len(_digests(mailbox, "was approved; its payout has started")) == 1


def _open_cases(application, tokens, n: int) -> list[int]:
    client = application.test_client()
    case_ids = []
    for k in range(n):
        opened = client.post("/api/v1/cases", headers=tokens["engineer"], json={
            "serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S3",
            "title": f"Fan tray alarm {k}", "description": "Fan tray 2 reports a failure."})
        assert opened.status_code == 201, opened.json
        case_ids.append(opened.json["id"])
    return case_ids


def _case_mails(mailbox, case_id: int) -> list:
    return [m for m in mailbox.messages if m["Subject"].startswith(f"[Case {case_id}]")]


def _case_opened_events(application, case_ids: list[int]) -> list[OutboxEvent]:
    with application.app_context():
        events = db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.topic == "notify.case_opened")
                                    .order_by(OutboxEvent.id))
        return [event for event in events if event.payload["case_id"] in case_ids]


def test_cases_opened_together_are_one_job_each_mailed_once_and_a_refused_mail_goes_again_alone(
        jobs_app, redis_server, mailbox, tokens):
    application = _batch_app(jobs_app, redis_server.url)
    first, *others = _open_cases(application, tokens, 3)

    connection = Redis.from_url(redis_server.url)
    assert [job.func_name for job in Queue(queue_for("notify.case_opened"), connection=connection).jobs] == [
        "app.outbox.jobs.run_outbox_batch"]
    mailbox.refuse_next = 1  # the batch's first e-mail
    work_queues(application)

    # The refused event was handed over alone and went out on its own job; none went twice.
    assert [len(_case_mails(mailbox, case_id)) for case_id in (first, *others)] == [1, 1, 1]
    refused, *sent = _case_opened_events(application, [first, *others])
    assert [(event.processed_at is not None, event.attempts) for event in sent] == [(True, 1), (True, 1)]
    assert refused.processed_at is not None and refused.attempts == 2
    assert "SMTPDataError" in refused.last_error
    assert relay_once(application) == ""
    work_queues(application)
    assert len(mailbox.messages) == 3


def test_case_notifications_lost_with_a_redis_restart_go_out_at_the_relays_next_pass(
        jobs_app, redis_server, mailbox, tokens):
    application = _batch_app(jobs_app, redis_server.url)
    case_ids = _open_cases(application, tokens, 2)
    redis_server.stop()  # the queued batch job is lost with it
    redis_server.start()

    assert relay_once(application) == "relayed 2 event(s)\n"
    work_queues(application)
    assert [len(_case_mails(mailbox, case_id)) for case_id in case_ids] == [1, 1]
    assert relay_once(application) == ""
