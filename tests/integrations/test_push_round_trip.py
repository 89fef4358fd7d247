"""The programme platform's round trip over HTTP: it pushes approved claims to the live server, the
sandbox provider pays them, and the platform hears paid, failed or returned by signed callbacks;
with lost answers, duplicate pushes and callbacks refused or held past their deadline."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa

from app.clock import FixedClock
from app.extensions import db
from app.integrations import callbacks
from app.integrations.models import CallbackDelivery, CallbackStatus, PushedClaim
from app.payments.models import Claim, Payout
from tests.integrations.conftest import claim
from tests.payments.conftest import count, ledger_violations, wait_until


def _written(app) -> tuple[int, int, int]:
    """Claims, payouts and pushed claims on record (the demo data has a claim of its own)."""
    return count(app, Claim), count(app, Payout), count(app, PushedClaim)


def _settling_fast(sandbox):
    sandbox.faults(settle_after=0.2)


def _callback(receiver, reference, topic, timeout=20.0):
    return wait_until(lambda: next((e for e in receiver.events_for(reference) if e["type"] == topic), None),
                      timeout=timeout, what=f"the {topic} callback of {reference}")


def _retry_due_callbacks(app, monkeypatch, after_seconds=31) -> int:
    """The scheduled retry pass, run once the back-off of the last failures has passed."""
    moved = FixedClock(datetime.now(timezone.utc) + timedelta(seconds=after_seconds))
    monkeypatch.setitem(app.extensions, "clock", moved)
    with app.app_context():
        try:
            return callbacks.deliver_due()
        finally:
            db.session.remove()


def _deliveries(app) -> list[CallbackDelivery]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(CallbackDelivery).order_by(CallbackDelivery.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_a_pushed_claim_is_paid_at_once_and_the_platform_hears_it(platform, receiver, sandbox, partners, app,
                                                                   payments):
    _settling_fast(sandbox)
    before = payments.balance()
    answer = platform.push(claim("CLM-1001", partners["northwind"], amount=125_000))
    assert answer.status_code == 201, answer.text
    pushed = answer.json()
    assert pushed["reference"] == "CLM-1001" and pushed["status"] == "accepted"
    assert pushed["partner_id"] == partners["northwind"] and pushed["amount"] == 125_000
    assert "Idempotent-Replayed" not in answer.headers

    paid = _callback(receiver, "CLM-1001", "claim.paid")
    assert paid["data"] == {"reference": "CLM-1001", "claim_id": pushed["claim_id"],
                            "payout_id": pushed["payout_id"], "payout_reference": pushed["payout_reference"],
                            "status": "paid", "amount": 125_000, "currency": "USD", "reason": None}
    assert payments.get_claim(pushed["claim_id"])["status"] == "paid"
    assert payments.payout_of(pushed["claim_id"])["status"] == "paid"
    after = payments.balance()
    assert after["paid_total"] - before["paid_total"] == 125_000
    assert receiver.unsigned == 0
    assert [d.status for d in _deliveries(app)] == [CallbackStatus.DELIVERED]
    assert ledger_violations(app) == []


def test_a_replay_answers_the_same_and_another_body_under_the_reference_is_a_conflict(platform, sandbox,
                                                                                     partners, app):
    body = claim("CLM-2001", partners["northwind"])
    claims, payouts, pushed = _written(app)
    first = platform.push(body)
    assert first.status_code == 201
    again = platform.push(dict(reversed(list(body.items()))))  # the same body, keys in another order
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"

    changed = platform.push({**body, "amount": body["amount"] + 1})
    assert changed.status_code == 409
    error = changed.json()["error"]
    assert error["code"] == "reference_reused"
    assert error["details"] == {"reference": "CLM-2001", "claim_id": first.json()["claim_id"]}
    assert _written(app) == (claims + 1, payouts + 1, pushed + 1)
    assert len(sandbox.state()["payouts"]) == 1


def test_a_push_whose_answer_was_lost_is_sent_again_and_paid_once(platform, sandbox, partners, app):
    # The provider is slow, so the first answer comes after the platform has given up waiting.
    sandbox.faults(slow_next_creates=1, slow_seconds=3)
    body = claim("CLM-3001", partners["northwind"], amount=77_700)
    claims, payouts, pushed = _written(app)
    with pytest.raises(requests.Timeout):
        platform.push(body, timeout=1)
    retried = platform.push(body)
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    wait_until(lambda: count(app, Payout, Payout.status == "in_transit") == 1, what="the payout to be sent")
    assert _written(app) == (claims + 1, payouts + 1, pushed + 1)
    made = sandbox.state()["payouts"]
    assert [(p["amount"], p["reference"]) for p in made] == [(77_700, retried.json()["payout_reference"])]
    assert ledger_violations(app) == []


def test_duplicate_pushes_at_the_same_moment_make_one_claim(platform, sandbox, partners, app):
    from concurrent.futures import ThreadPoolExecutor

    body = claim("CLM-3501", partners["northwind"], amount=12_345)
    claims, payouts, pushed = _written(app)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: platform.push(body), range(4)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["claim_id"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert _written(app) == (claims + 1, payouts + 1, pushed + 1)


@pytest.mark.parametrize("whose, code", [("unknown", "unknown_partner"), ("acme", "unknown_partner"),
                                         ("suspended", "partner_suspended")])
def test_a_claim_for_an_unknown_or_suspended_partner_is_refused_with_the_reason(
        platform, sandbox, partners, app, client, tokens, whose, code):
    written = _written(app)
    partner_id = {"unknown": 999_999, "acme": partners["acme"], "suspended": partners["contoso"]}[whose]
    if whose == "suspended":
        assert client.post(f"/api/v1/admin/partners/{partners['contoso']}/suspension",
                           headers=tokens["vendor_admin"]).status_code == 200
    answer = platform.push(claim("CLM-4001", partner_id))
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == code and error["details"] == {"partner_id": partner_id}
    assert ("suspended" in error["message"]) == (whose == "suspended")
    assert _written(app) == written
    # Refused, the reference is not spent: the same claim for the right partner goes through.
    assert platform.push(claim("CLM-4001", partners["northwind"])).status_code == 201


@pytest.mark.parametrize("field, value", [("amount", -500), ("amount", 0), ("amount", 12.5), ("amount", "100"),
                                          ("amount", True), ("currency", "ABC"), ("currency", "usd"),
                                          ("partner_id", "2"), ("reference", ""), ("reference", "has space"),
                                          ("period", "2026-Q5"), ("type", "gift"), ("description", " \t\n ")])
def test_bad_amounts_currencies_and_fields_are_refused_and_nothing_is_written(platform, partners, app, field,
                                                                              value):
    written = _written(app)
    answer = platform.push({**claim("CLM-5001", partners["northwind"]), field: value})
    assert answer.status_code == 400, answer.text
    assert field in answer.json()["error"]["details"]["fields"]
    assert _written(app) == written


def test_unsigned_wrongly_signed_or_stale_pushes_are_refused(platform, partners, app, client, tokens):
    body = claim("CLM-6001", partners["northwind"])
    written = _written(app)
    assert platform.push(body, secret="not-the-secret").status_code == 401
    stale = platform.push(body, timestamp=int(datetime.now(timezone.utc).timestamp()) - 3600)
    assert stale.status_code == 401 and stale.json()["error"]["code"] == "invalid_signature"
    unsigned = requests.post(f"{platform.base_url}/api/v1/integrations/claims", json=body, timeout=5)
    assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "missing_signature"
    # A person's API token is no integration's signature.
    as_person = requests.post(f"{platform.base_url}/api/v1/integrations/claims", json=body, timeout=5,
                              headers=tokens["programs"])
    assert as_person.status_code == 401
    assert client.post(f"/api/v1/integrations/{platform.integration_id}/suspension",
                       headers=tokens["programs"]).status_code == 200
    suspended = platform.push(body)
    assert suspended.status_code == 403 and suspended.json()["error"]["code"] == "integration_suspended"
    assert _written(app) == written


def test_a_refused_callback_is_retried_with_back_off_until_acknowledged(platform, receiver, sandbox, partners,
                                                                        app, monkeypatch):
    _settling_fast(sandbox)
    receiver.refuse_next = 2
    pushed = platform.push(claim("CLM-7001", partners["northwind"])).json()
    wait_until(lambda: len(receiver.refused) == 1, what="the first callback to be refused")
    # The receiver counts the refusal as it answers; the service records it once the answer is read.
    wait_until(lambda: (d := _deliveries(app)) and d[0].last_status_code is not None,
               what="the refused attempt to be recorded")
    (delivery,) = _deliveries(app)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (CallbackStatus.PENDING, 1, 503)
    assert _retry_due_callbacks(app, monkeypatch, after_seconds=5) == 0  # not before its back-off (30 s)
    assert _retry_due_callbacks(app, monkeypatch, after_seconds=31) == 1  # refused again
    assert receiver.events_for("CLM-7001") == []
    assert _retry_due_callbacks(app, monkeypatch, after_seconds=31 + 61) == 1  # then 1 min more: taken
    (paid,) = receiver.events_for("CLM-7001")
    assert paid["type"] == "claim.paid" and paid["data"]["payout_id"] == pushed["payout_id"]
    # All three attempts announced the one event id.
    assert {e["id"] for e in receiver.refused} == {paid["id"]}
    (delivery,) = _deliveries(app)
    assert (delivery.status, delivery.attempts) == (CallbackStatus.DELIVERED, 3)


def test_a_callback_held_past_its_deadline_counts_as_failed_and_is_retried(platform, receiver, sandbox, partners,
                                                                          app, monkeypatch):
    _settling_fast(sandbox)
    receiver.hold_next, receiver.hold_seconds = 1, 4  # the deadline is 1 s (conftest)
    platform.push(claim("CLM-7501", partners["northwind"]))
    wait_until(lambda: (d := _deliveries(app)) and d[0].attempts == 1 and d[0].last_error, timeout=20,
               what="the first attempt to give up")
    (delivery,) = _deliveries(app)
    # The total deadline or, on a loaded machine, the read timeout under it ends the attempt first.
    assert delivery.status is CallbackStatus.PENDING
    assert "1 s" in delivery.last_error or "timed out" in delivery.last_error
    assert _retry_due_callbacks(app, monkeypatch) == 1
    assert [e["type"] for e in receiver.events_for("CLM-7501")] == ["claim.paid"]


def test_the_platform_hears_a_failed_payment_and_a_returned_one_with_the_reason(platform, receiver, sandbox,
                                                                               partners, app):
    _settling_fast(sandbox)
    sandbox.faults(fail_next_payouts=1)
    platform.push(claim("CLM-8001", partners["northwind"], amount=10_000))
    failed = _callback(receiver, "CLM-8001", "claim.failed")
    assert failed["data"]["status"] == "failed" and failed["data"]["reason"]

    sandbox.faults(return_next_payouts=1, return_after=0.3)
    platform.push(claim("CLM-8002", partners["northwind"], amount=20_000))
    _callback(receiver, "CLM-8002", "claim.paid")
    returned = _callback(receiver, "CLM-8002", "claim.returned")
    assert returned["data"]["reason"]
    assert ledger_violations(app) == []


def test_an_mdf_claim_is_paid_only_within_the_partners_allocation(platform, sandbox, partners, app):
    # The demo allocates Northwind 50,000.00 USD of MDF for 2026-Q3.
    written = _written(app)
    outside = platform.push(claim("CLM-9001", partners["northwind"], type="mdf", period="2027-Q1"))
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "no_mdf_allocation"
    too_much = platform.push(claim("CLM-9002", partners["northwind"], type="mdf", amount=5_000_001))
    assert too_much.status_code == 422
    assert _written(app) == written
    within = platform.push(claim("CLM-9003", partners["northwind"], type="mdf", amount=4_000_000))
    assert within.status_code == 201
    rest = platform.push(claim("CLM-9004", partners["northwind"], type="mdf", amount=1_000_001))
    assert rest.status_code == 422  # what the first one used is gone from the allocation
    assert _written(app) == tuple(n + 1 for n in written)
