"""Each outcome of a pushed claim's payout is announced, however its outcome events are batched: a
failure and, after the retry, the payment (or a payment and its return) handled together are two
callbacks, in that order; an outcome handled after a retry keeps the attempt and reason it was
about. The partner's e-mail, sent from the same events, gives the reason of the attempt too."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.integrations import callbacks
from app.integrations.models import CallbackDelivery
from app.outbox import services as outbox
from app.outbox.models import OutboxEvent
from app.uow import unit_of_work
from tests.accounts.mail import mailbox  # noqa: F401  (fixture)
from tests.integrations.conftest import claim
from tests.payments.conftest import wait_until

OUTCOMES = "notify.payments.payout"


class HoldingOutcomes:
    """The suite's dispatcher, except that it leaves payout outcome events in the outbox."""

    def __init__(self, dispatch):
        self.dispatch = dispatch

    def __call__(self, events: list[tuple[int, str]]) -> int:
        return self.dispatch([event for event in events if event[1] != OUTCOMES])

    def __getattr__(self, name):  # on RQ, the batch jobs of other topics ask it to run them
        return getattr(self.dispatch, name)


@pytest.fixture
def held_outcomes(app, monkeypatch):
    """Payout outcome events stay in the outbox until the test hands them over, all in one batch
    (as a batch job finds them when they come faster than it runs); other events go as usual."""
    monkeypatch.setitem(app.extensions, "outbox_dispatch", HoldingOutcomes(app.extensions["outbox_dispatch"]))

    def hand_over() -> int:
        with app.app_context():
            try:
                done, failed = outbox.run_batch(OUTCOMES, 200)
            finally:
                db.session.remove()
        assert failed == {}
        return done

    return hand_over


def _pushed(platform, payments, reference, partner_id, amount=10_000) -> dict:
    pushed = platform.push(claim(reference, partner_id, amount=amount))
    assert pushed.status_code == 201, pushed.text
    wait_until(lambda: payments.payout_of(pushed.json()["claim_id"])["status"] == "in_transit",
               what="the payout to be sent")
    return pushed.json()


def _provider_says(payments, kind, key, event_id, reason=None) -> None:
    answer = payments.webhook(kind, key, event_id, reason=reason)
    assert answer.status_code == 200, answer.json
    assert answer.json["outcome"] == kind.removeprefix("payout."), answer.json


def _retried(payments, payout_id) -> None:
    answer = payments.client.post(f"/api/v1/payouts/{payout_id}/retry", headers=payments.tokens["programs"])
    assert answer.status_code == 200 and answer.json["attempt"] == 2, answer.json


def _announced(receiver, reference) -> list[tuple[str, str, str | None]]:
    return [(event["id"], event["type"], event["data"]["reason"]) for event in receiver.events_for(reference)]


def test_a_failure_and_after_the_retry_the_payment_handled_in_one_batch_are_both_announced(
        platform, receiver, sandbox, partners, payments, held_outcomes):
    pushed = _pushed(platform, payments, "CLM-O-1", partners["northwind"])
    payout_id, key = pushed["payout_id"], pushed["payout_reference"]
    _provider_says(payments, "payout.failed", key, "evt_o1_failed", reason="Account closed")
    _retried(payments, payout_id)
    _provider_says(payments, "payout.paid", f"{key}-2", "evt_o1_paid")

    assert held_outcomes() == 2
    assert _announced(receiver, "CLM-O-1") == [(f"claim.failed:{payout_id}:1", "claim.failed", "Account closed"),
                                               (f"claim.paid:{payout_id}:2", "claim.paid", None)]


def test_a_payment_and_its_return_handled_in_one_batch_are_both_announced(platform, receiver, sandbox, partners,
                                                                         payments, held_outcomes):
    pushed = _pushed(platform, payments, "CLM-O-2", partners["northwind"])
    payout_id, key = pushed["payout_id"], pushed["payout_reference"]
    _provider_says(payments, "payout.paid", key, "evt_o2_paid")
    _provider_says(payments, "payout.returned", key, "evt_o2_returned", reason="Beneficiary account closed")

    assert held_outcomes() == 2
    paid, returned = receiver.events_for("CLM-O-2")
    assert (paid["id"], paid["type"], paid["data"]["amount"]) == (f"claim.paid:{payout_id}:1", "claim.paid", 10_000)
    assert (returned["id"], returned["type"], returned["data"]["reason"]) == (
        f"claim.returned:{payout_id}:1", "claim.returned", "Beneficiary account closed")


def test_a_failure_handled_after_the_retry_keeps_its_attempt_and_reason_and_the_next_failure_is_announced(
        app, platform, receiver, sandbox, partners, payments, held_outcomes):
    pushed = _pushed(platform, payments, "CLM-O-3", partners["northwind"])
    payout_id, key = pushed["payout_id"], pushed["payout_reference"]
    _provider_says(payments, "payout.failed", key, "evt_o3_failed_1", reason="Account closed")
    _retried(payments, payout_id)  # before the first failure's event is handled
    assert held_outcomes() == 1
    _provider_says(payments, "payout.failed", f"{key}-2", "evt_o3_failed_2", reason="Name does not match")
    assert held_outcomes() == 1

    assert _announced(receiver, "CLM-O-3") == [
        (f"claim.failed:{payout_id}:1", "claim.failed", "Account closed"),
        (f"claim.failed:{payout_id}:2", "claim.failed", "Name does not match")]
    # An event written before events named their attempt is about the current one: announced already.
    with app.app_context():
        with unit_of_work() as uow:
            callbacks.on_payout_events(uow, [(0, {"payout_id": payout_id, "status": "failed"})])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CallbackDelivery)
                                 .where(CallbackDelivery.payload["payout_id"].as_integer() == payout_id)) == 2
        assert db.session.scalars(sa.select(OutboxEvent.payload["attempt"].as_integer())
                                  .where(OutboxEvent.topic == OUTCOMES,
                                         OutboxEvent.payload["payout_id"].as_integer() == payout_id)
                                  .order_by(OutboxEvent.id)).all() == [1, 2]
        db.session.remove()


def test_the_partner_hears_of_a_failure_handled_after_the_retry_with_that_attempts_reason(
        platform, receiver, sandbox, partners, payments, held_outcomes, mailbox):
    pushed = _pushed(platform, payments, "CLM-O-4", partners["northwind"])
    payout_id, key = pushed["payout_id"], pushed["payout_reference"]
    _provider_says(payments, "payout.failed", key, "evt_o4_failed", reason="Account closed")
    _retried(payments, payout_id)
    _provider_says(payments, "payout.paid", f"{key}-2", "evt_o4_paid")
    held_outcomes()

    subject = f"[Payment {key}] failed"
    (failed,) = wait_until(lambda: [m for m in mailbox.messages if m["Subject"] == subject],
                           what="the failure's e-mail")
    assert "admin@northwind.example" in failed["To"]
    assert "Reason: Account closed" in failed.get_content()
    wait_until(lambda: [m for m in mailbox.messages if m["Subject"].startswith(f"[Remittance advice {key}]")],
               what="the payment's remittance advice")
