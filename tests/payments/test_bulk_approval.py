"""Approving many claims at once (POST /api/v1/claims/approvals): each under the single approval's
rules, all or none, and the payouts started together."""
from __future__ import annotations

import threading

import pytest

from app.audit.models import AuditEvent
from app.payments.models import Claim, ClaimStatus, Payout
from tests.payments.conftest import count, ledger_violations

ALLOCATION = 5_000_000  # the demo's Northwind 2026-Q3 USD allocation


@pytest.fixture
def one_approver(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)


def approve_all(payments, claim_ids, who="programs"):
    return payments.client.post("/api/v1/claims/approvals", json={"claim_ids": claim_ids},
                                headers=payments.tokens[who])


def test_approving_several_claims_starts_each_payout(payments, sandbox, app, one_approver):
    claim_ids = [payments.claim(amount=10_000 + n) for n in range(3)]
    answer = approve_all(payments, claim_ids)
    assert answer.status_code == 200, answer.json
    assert [claim["id"] for claim in answer.json["items"]] == claim_ids
    assert {claim["status"] for claim in answer.json["items"]} == {"payout_pending"}
    for n, claim_id in enumerate(claim_ids):
        payout = payments.payout_of(claim_id)
        assert payout["status"] == "in_transit" and payout["amount"] == 10_000 + n
        assert len(sandbox.payouts_for(payout["reference"])) == 1
    assert ledger_violations(app) == []


def test_one_refusal_approves_nothing_and_names_every_refused_claim(payments, sandbox, app, one_approver):
    fine = payments.claim(amount=20_000)
    already = payments.claim(amount=30_000)
    assert payments.approve(already).status_code == 200
    draft = payments.claim(amount=40_000, submit=False)
    payouts_before, audit_before = count(app, Payout), count(app, AuditEvent)

    answer = approve_all(payments, [fine, already, draft, 999_999])

    assert answer.status_code == 422
    error = answer.json["error"]
    assert error["code"] == "claims_not_approved"
    assert {(r["claim_id"], r["code"]) for r in error["details"]["refused"]} == {
        (already, "illegal_transition"), (draft, "illegal_transition"), (999_999, "claim_not_found")}
    assert payments.get_claim(fine)["status"] == "submitted"
    assert (count(app, Payout), count(app, AuditEvent)) == (payouts_before, audit_before)


@pytest.mark.parametrize("who", ["admin", "engineer", "customer", "gtac", "vendor_admin"])
def test_only_the_programmes_team_approves_in_bulk(payments, one_approver, who):
    claim_id = payments.claim()
    answer = approve_all(payments, [claim_id], who=who)
    assert answer.status_code == 403 and answer.json["error"]["code"] == "role_not_allowed"
    assert payments.get_claim(claim_id)["status"] == "submitted"


@pytest.mark.parametrize("body", [
    {}, {"claim_ids": []}, {"claim_ids": "1,2"}, {"claim_ids": [1, 1]}, {"claim_ids": ["1"]},
    {"claim_ids": [0]}, {"claim_ids": [2**40]}, {"claim_ids": list(range(1, 102))}, {"claim_ids": [1.5]},
])
def test_bad_bodies_are_400_and_change_nothing(payments, app, body):
    claim_id = payments.claim()
    answer = payments.client.post("/api/v1/claims/approvals", json=body, headers=payments.tokens["programs"])
    assert answer.status_code == 400, answer.json
    assert answer.json["error"]["code"] == "invalid_input"
    assert payments.get_claim(claim_id)["status"] == "submitted"


def test_payouts_beyond_the_funds_wait_in_approval_order(payments, sandbox, app, one_approver):
    available = payments.balance()["prefunding"]["available"]
    first = payments.claim(amount=available - 1_000)
    second = payments.claim(amount=2_000)  # does not fit after the first
    third = payments.claim(amount=500)  # would fit, but may not overtake the second
    answer = approve_all(payments, [first, second, third])
    assert answer.status_code == 200, answer.json
    # Read back once the payout jobs have run (the answer itself is written before they run).
    assert [payments.payout_of(c)["status"] for c in (first, second, third)] == [
        "in_transit", "awaiting_funds", "awaiting_funds"]
    assert payments.balance()["prefunding"]["available"] == 1_000
    assert payments.fund(10_000, "BULK-TOP-UP").status_code == 201
    assert payments.payout_of(second)["status"] == "in_transit"
    assert payments.payout_of(third)["status"] == "in_transit"
    assert ledger_violations(app) == []


def test_large_claims_take_their_first_approval_in_bulk_and_a_second_approver_after(
        payments, sandbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 50_000)
    small, large = payments.claim(amount=10_000), payments.claim(amount=60_000)
    answer = approve_all(payments, [small, large])
    assert answer.status_code == 200, answer.json
    assert [c["status"] for c in answer.json["items"]] == ["payout_pending", "submitted"]
    again = approve_all(payments, [large])
    assert again.status_code == 422
    assert again.json["error"]["details"]["refused"][0]["code"] == "second_approver_required"
    assert count(app, Payout, Payout.claim_id == large) == 0


def test_mdf_claims_in_one_batch_cannot_together_exceed_the_allocation(payments, sandbox, app, one_approver):
    first = payments.claim(type="mdf", amount=ALLOCATION - 100_000, proof=True)
    second = payments.claim(type="mdf", amount=200_000, proof=True)  # fits alone, not after the first
    answer = approve_all(payments, [first, second])
    assert answer.status_code == 422
    assert answer.json["error"]["details"]["refused"] == [
        {"claim_id": second, "code": "mdf_allocation_exceeded",
         "message": answer.json["error"]["details"]["refused"][0]["message"]}]
    assert count(app, Claim, Claim.status == ClaimStatus.PAYOUT_PENDING) == 0
    assert approve_all(payments, [first]).status_code == 200


def test_bulk_approvals_naming_allocations_in_opposite_orders_all_succeed(payments, sandbox, app, tokens,
                                                                          one_approver):
    answer = payments.client.put("/api/v1/mdf-allocations", headers=tokens["programs"], json={
        "partner_id": payments.get_claim(payments.claim())["partner"]["id"], "period": "2026-Q4",
        "currency": "USD", "amount": ALLOCATION})
    assert answer.status_code in (200, 201), answer.json
    statuses = []
    for _ in range(5):
        q3 = [payments.claim(type="mdf", amount=1_000, proof=True) for _ in range(2)]
        q4 = [payments.claim(type="mdf", amount=1_000, period="2026-Q4", proof=True) for _ in range(2)]
        barrier = threading.Barrier(2)

        def approve(claim_ids):
            barrier.wait()
            answer = app.test_client().post("/api/v1/claims/approvals", json={"claim_ids": claim_ids},
                                            headers=tokens["programs"])
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=approve, args=([q4[0], q3[0]],)),
                   threading.Thread(target=approve, args=([q3[1], q4[1]],))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert statuses == [200] * 10
    assert ledger_violations(app) == []
