"""Pre-funding: deposits, payouts that wait for funds, and the balance that never goes negative."""
from __future__ import annotations

import threading

import pytest

from app.payments.models import Payout, PayoutStatus
from tests.payments.conftest import count, ledger_violations


@pytest.fixture
def one_approver(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)


def _drain(payments):
    """Reserve the whole pre-funding balance with one claim; returns its id."""
    available = payments.balance()["prefunding"]["available"]
    claim_id = payments.claim(amount=available)
    assert payments.approve(claim_id).status_code == 200
    assert payments.balance()["prefunding"]["available"] == 0
    return claim_id


def test_a_deposit_is_recorded_once_per_bank_reference(payments, app):
    before = payments.balance()["prefunding"]["available"]
    first = payments.fund(500_000, "BANK-REF-1")
    assert first.status_code == 201, first.json
    assert first.json["available"] == before + 500_000
    again = payments.fund(500_000, "BANK-REF-1")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert payments.balance()["prefunding"]["available"] == before + 500_000
    clash = payments.fund(600_000, "BANK-REF-1")
    assert clash.status_code == 409 and clash.json["error"]["code"] == "funding_reference_reused"
    assert payments.fund(1, "BANK-REF-2", who="admin").status_code == 403
    assert payments.fund(10.5, "BANK-REF-3").status_code == 400
    assert payments.fund(100, "BANK-REF-4", currency="EURO").status_code == 400
    assert payments.client.get("/api/v1/ledger/balances", headers=payments.tokens["admin"]).status_code == 403
    assert ledger_violations(app) == []


def test_a_bank_reference_of_the_longest_documented_length_is_recorded_once(payments, app):
    """140 characters are allowed; the ledger's transfer key has room for 120 (PostgreSQL refused
    the longer key with a 500 before)."""
    longest, other = "R" * 140, "R" * 139 + "S"
    first = payments.fund(700_000, longest)
    assert first.status_code == 201, first.json
    assert first.json["reference"] == longest
    assert payments.fund(700_000, longest).json["id"] == first.json["id"]
    assert payments.fund(800_000, other).status_code == 201  # same first 120 characters, another deposit
    assert payments.fund(900_000, longest).status_code == 409
    assert ledger_violations(app) == []


def test_payouts_wait_for_funds_and_go_out_oldest_approval_first(payments, sandbox, app, one_approver):
    _drain(payments)
    big = payments.claim(amount=70_000)
    small = payments.claim(amount=10_000)
    assert payments.approve(big).json["payout_status"] == "awaiting_funds"
    # Funds would cover the small one, but it does not overtake the older approval.
    assert payments.approve(small).json["payout_status"] == "awaiting_funds"
    top_up = payments.fund(20_000, "TOPUP-1")
    assert top_up.json["released_payout_ids"] == []
    assert payments.payout_of(small)["status"] == "awaiting_funds"
    enough_for_big = payments.fund(55_000, "TOPUP-2")
    assert enough_for_big.json["released_payout_ids"] == [payments.payout_of(big)["id"]]
    assert payments.payout_of(big)["status"] == "in_transit"
    assert payments.payout_of(small)["status"] == "awaiting_funds"
    rest = payments.fund(5_000, "TOPUP-3")
    assert rest.json["released_payout_ids"] == [payments.payout_of(small)["id"]]
    assert payments.payout_of(small)["status"] == "in_transit"
    assert payments.balance()["prefunding"]["available"] == 0
    assert ledger_violations(app) == []


def test_balances_show_pending_paid_and_the_pipeline(payments, sandbox, app, one_approver):
    claim_id = payments.claim(amount=30_000)
    payments.approve(claim_id)
    payout = payments.payout_of(claim_id)
    payments.webhook("payout.paid", payout["reference"], "evt_bal")
    balance = payments.balance()
    assert balance["paid_total"] == 30_000
    assert balance["funded_total"] == 25_000_000
    assert balance["prefunding"]["posted"] == 25_000_000 - 30_000
    stages = {s["status"]: (s["count"], s["amount"]) for s in balance["pipeline"]}
    assert stages["paid"] == (1, 30_000)


def _approve_all_at_once(app, tokens, claim_ids, threads=8):
    results: dict[int, int] = {}
    barrier = threading.Barrier(threads)
    chunks = [claim_ids[i::threads] for i in range(threads)]

    def approve(chunk):
        client = app.test_client()
        barrier.wait()
        for claim_id in chunk:
            answer = client.post(f"/api/v1/claims/{claim_id}/approve", headers=tokens["programs"])
            results[claim_id] = answer.status_code

    workers = [threading.Thread(target=approve, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    return results


def test_concurrent_approvals_never_overdraw_the_prefunding(payments, sandbox, app, tokens, one_approver):
    _drain(payments)
    payments.fund(10 * 1_000, "EXACTLY-TEN")
    claim_ids = [payments.claim(amount=1_000) for _ in range(24)]
    results = _approve_all_at_once(app, tokens, claim_ids)
    assert sorted(set(results.values())) == [200]
    assert len(results) == 24
    reserved = count(app, Payout, Payout.status.in_([PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT]))
    waiting = count(app, Payout, Payout.status == PayoutStatus.AWAITING_FUNDS)
    assert (reserved, waiting) == (1 + 10, 14)  # the draining claim plus exactly the ten that fit
    assert payments.balance()["prefunding"]["available"] == 0
    assert ledger_violations(app) == []
