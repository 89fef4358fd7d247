"""Exactly one payout per approved claim, on PostgreSQL and Redis with real RQ workers and the
sandbox provider over HTTP: retried jobs, duplicated webhooks, two workers, a worker SIGKILLed
between the provider call and its commit."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue, Worker

from app import create_app
from app.extensions import db
from app.outbox.dispatch import RQDispatcher
from app.payments import payouts
from app.payments.models import LedgerTransfer, Payout, PayoutStatus, ProviderEvent, TransferKind
from tests.payments.conftest import ROOT, count, env_for_subprocess, ledger_violations, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def rq_app(app, postgres, redis_url, sandbox, tmp_path, monkeypatch):
    """The application as production runs it: outbox events go to RQ on Redis.

    The suite's application, which takes the sandbox's webhooks, hands its events to the
    same queues and leaves them to these tests' workers (it runs no jobs itself).
    """
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)
    monkeypatch.setitem(app.extensions, "outbox_dispatch", RQDispatcher(redis_url))
    return create_app(config={"REDIS_URL": redis_url, "PAYMENTS_SANDBOX_URL": app.config["PAYMENTS_SANDBOX_URL"],
                              "PAYMENTS_SECOND_APPROVAL_ABOVE": 10**12},
                      instance_path=str(tmp_path / "instance"))


class Workers:
    """`flask worker` processes, each in its own process group so SIGKILL takes its work-horse too."""

    def __init__(self, app, redis_url):
        self.app, self.redis_url = app, redis_url
        self.processes: list[subprocess.Popen] = []

    def start(self, n: int = 1) -> None:
        env = env_for_subprocess(self.app, REDIS_URL=self.redis_url, PAYMENTS_PROVIDER_TIMEOUT=30)
        for _ in range(n):
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "flask", "worker", "--queues", "payments,notifications,default"],
                cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        connection = Redis.from_url(self.redis_url)
        alive = len([p for p in self.processes if p.poll() is None])
        wait_until(lambda: len(Worker.all(connection=connection)) >= alive, timeout=90, interval=0.2,
                   what=f"{alive} RQ worker(s) to register")

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


@pytest.fixture
def workers(app, redis_url):
    pool = Workers(app, redis_url)
    yield pool
    pool.stop()


def _approve(rq_app, tokens, payments, n, amount=1_000):
    client = rq_app.test_client()
    claim_ids = [payments.claim(amount=amount + i) for i in range(n)]
    for claim_id in claim_ids:
        answer = client.post(f"/api/v1/claims/{claim_id}/approve", headers=tokens["programs"])
        assert answer.status_code == 200, answer.json
    return claim_ids


def _payouts(app) -> list[Payout]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Payout).order_by(Payout.id)))
        db.session.remove()
    return rows


def _settled(app, n) -> bool:
    final = {PayoutStatus.PAID, PayoutStatus.FAILED, PayoutStatus.RETURNED}
    rows = _payouts(app)
    return len(rows) == n and all(p.status in final for p in rows)


def _each_claim_sent_under_its_key_and_paid_out_once(sandbox, rows):
    """What the provider really received and made, claim by claim.

    Each claim here has its own amount, so an instruction's amount names its claim
    whatever key it carried: a second key for a claim shows, and so does a second
    provider payout, which the sandbox would otherwise keep under that other key.
    """
    assert len({p.amount for p in rows}) == len(rows)
    keys_sent = defaultdict(set)
    for attempt in sandbox.attempts():  # refused tries included
        keys_sent[attempt["body"]["amount"]].add(attempt["idempotency_key"])
    assert keys_sent == {p.amount: {p.idempotency_key} for p in rows}
    made = sandbox.state()["payouts"]
    assert Counter(p["amount"] for p in made) == {p.amount: 1 for p in rows}
    assert {(p["amount"], p["reference"], p["id"]) for p in made} == {
        (p.amount, p.idempotency_key, p.provider_payout_id) for p in rows}


def test_a_retried_job_pays_once(app, rq_app, tokens, payments, sandbox, workers, redis_url):
    sandbox.faults(settle_after=0.3)
    workers.start(1)
    (claim_id,) = _approve(rq_app, tokens, payments, 1)
    (payout,) = _payouts(app)
    queue = Queue("payments", connection=Redis.from_url(redis_url))
    for _ in range(5):  # the job runs again and again, as after a retry or a redelivery
        queue.enqueue("app.payments.jobs.execute_payout", payout.id)
    wait_until(lambda: _settled(app, 1), timeout=60, what="the payout to be paid")
    assert _payouts(app)[0].status is PayoutStatus.PAID
    _each_claim_sent_under_its_key_and_paid_out_once(sandbox, _payouts(app))
    wait_until(lambda: queue.count == 0, timeout=30, what="the extra jobs to run")
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.SETTLEMENT) == 1
    assert ledger_violations(app) == []


def test_duplicated_webhooks_settle_once(app, rq_app, tokens, payments, sandbox, workers):
    sandbox.faults(settle_after=0.2, duplicate_webhooks=True)
    workers.start(1)
    _approve(rq_app, tokens, payments, 5)
    wait_until(lambda: _settled(app, 5), timeout=60, what="five payouts to be paid")
    wait_until(lambda: sandbox.state()["webhooks_sent"] >= 10, timeout=30, what="every duplicate delivery")
    assert count(app, ProviderEvent) == 5  # a duplicate is recognised by its event id and not stored again
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.SETTLEMENT) == 5
    _each_claim_sent_under_its_key_and_paid_out_once(sandbox, _payouts(app))
    assert ledger_violations(app) == []


def test_two_workers_racing_on_the_same_payouts_with_failures_and_late_returns(
        app, rq_app, tokens, payments, sandbox, workers, redis_url):
    sandbox.faults(settle_after=0.3, duplicate_webhooks=True, fail_next_payouts=3, return_next_payouts=2,
                   return_after=0.5, error_next_creates=2)
    workers.start(2)
    _approve(rq_app, tokens, payments, 20)
    queue = Queue("payments", connection=Redis.from_url(redis_url))
    for payout in _payouts(app):  # every payout is executed up to four times, by either worker
        for _ in range(3):
            queue.enqueue("app.payments.jobs.execute_payout", payout.id)
    wait_until(lambda: _settled(app, 20), timeout=120, what="twenty payouts to settle")
    assert any(a["status"] == 503 for a in sandbox.attempts())  # the refused tries are among those checked
    _each_claim_sent_under_its_key_and_paid_out_once(sandbox, _payouts(app))
    wait_until(lambda: Counter(p.status for p in _payouts(app))[PayoutStatus.RETURNED] == 2, timeout=30,
               what="the two late returns")
    statuses = Counter(p.status for p in _payouts(app))
    assert statuses == {PayoutStatus.PAID: 15, PayoutStatus.FAILED: 3, PayoutStatus.RETURNED: 2}
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.SETTLEMENT) == 17
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.RETURN) == 2
    assert ledger_violations(app) == []


def test_a_worker_killed_between_the_provider_call_and_the_commit(app, rq_app, tokens, payments, sandbox,
                                                                  workers):
    # The provider creates the payout, then takes 8 s to answer: the worker is killed while it waits.
    # No webhooks, so that only asking the provider again can reveal what happened to the payout.
    sandbox.faults(settle_after=0.3, slow_next_creates=1, slow_seconds=8, webhooks_enabled=False)
    workers.start(1)
    (claim_id,) = _approve(rq_app, tokens, payments, 1)
    (payout,) = _payouts(app)
    key = payout.idempotency_key
    wait_until(lambda: sandbox.state()["payouts"], timeout=60, what="the provider to make the payout")
    # The call reached the provider, which made the payout and is still to answer: the kill
    # falls between the provider call and our commit.
    (sent,) = sandbox.attempts()
    assert sent["idempotency_key"] == key and sent["status"] is None
    assert [p["reference"] for p in sandbox.state()["payouts"]] == [key]
    workers.kill(workers.processes[0])
    assert _payouts(app)[0].status is PayoutStatus.PENDING  # nothing was committed on our side
    workers.start(1)
    with rq_app.app_context():
        assert payouts.sweep(timedelta(0), timedelta(hours=1))["restarted"] == 1
        db.session.remove()
    # Until the payout is paid, or the provider has made a second payout (which the check below names).
    wait_until(lambda: _settled(app, 1) or len(sandbox.state()["payouts"]) > 1, timeout=60,
               what="the payout to be paid after the restart")
    # Whatever the restarted job asked, it asked under the key of the call cut short, and the
    # provider's one payout is the one we recorded.
    _each_claim_sent_under_its_key_and_paid_out_once(sandbox, _payouts(app))
    assert _payouts(app)[0].status is PayoutStatus.PAID
    assert count(app, Payout) == 1
    assert ledger_violations(app) == []
