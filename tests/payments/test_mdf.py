"""MDF claims: proof of performance, the partner's allocation, and the race for its last funds."""
from __future__ import annotations

import io
import threading

import pytest

from app.payments.models import Claim, ClaimStatus, Payout
from tests.payments.conftest import count, ledger_violations

ALLOCATION = 5_000_000  # the demo's Northwind 2026-Q3 USD allocation


@pytest.fixture
def one_approver(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)


def test_mdf_claim_needs_proof_before_it_is_submitted(payments, client, tokens):
    claim_id = payments.claim(type="mdf", amount=100_000, submit=False)
    refused = client.post(f"/api/v1/claims/{claim_id}/submit", headers=tokens["admin"])
    assert refused.status_code == 422 and refused.json["error"]["code"] == "proof_required"
    proof = payments.proof(claim_id, content=b"trade show invoice")
    assert proof["size_bytes"] == len(b"trade show invoice") and len(proof["sha256"]) == 64
    assert client.post(f"/api/v1/claims/{claim_id}/submit", headers=tokens["admin"]).status_code == 200
    shown = payments.get_claim(claim_id, who="admin")
    assert [a["filename"] for a in shown["attachments"]] == ["proof.pdf"]


def test_proof_is_refused_on_rebates_and_without_a_file(payments, client, tokens):
    rebate = payments.claim(submit=False)
    answer = client.post(f"/api/v1/claims/{rebate}/attachments", headers=tokens["admin"],
                         data={"file": (io.BytesIO(b"x"), "x.pdf")}, content_type="multipart/form-data")
    assert answer.status_code == 422 and answer.json["error"]["code"] == "proof_not_applicable"
    mdf = payments.claim(type="mdf", amount=1_000, submit=False)
    empty = client.post(f"/api/v1/claims/{mdf}/attachments", headers=tokens["admin"], data={},
                        content_type="multipart/form-data")
    assert empty.status_code == 400


def test_mdf_claim_over_the_remaining_allocation_is_refused(payments, client, tokens, sandbox, one_approver):
    first = payments.claim(type="mdf", amount=ALLOCATION - 1_000, proof=True)
    assert payments.approve(first).status_code == 200
    over = payments.claim(type="mdf", amount=2_000, proof=True, submit=False)
    refused = client.post(f"/api/v1/claims/{over}/submit", headers=tokens["admin"])
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "mdf_allocation_exceeded"
    assert refused.json["error"]["details"]["remaining"] == 1_000
    listed = client.get("/api/v1/mdf-allocations", headers=tokens["admin"]).json
    [q3] = [allocation for allocation in listed if allocation["period"] == "2026-Q3"]
    assert q3["used"] == ALLOCATION - 1_000 and q3["remaining"] == 1_000


def test_no_allocation_for_the_period_means_no_mdf_claim(payments, client, tokens):
    claim_id = payments.claim(type="mdf", amount=1_000, period="2025-Q1", proof=True, submit=False)
    refused = client.post(f"/api/v1/claims/{claim_id}/submit", headers=tokens["admin"])
    assert refused.status_code == 422 and refused.json["error"]["code"] == "no_mdf_allocation"


def test_allocations_are_set_by_programmes_only_and_never_below_usage(payments, client, tokens, sandbox,
                                                                      demo, one_approver):
    partner_id = demo["admin"].organisation_id
    body = {"partner_id": partner_id, "period": "2026-Q4", "currency": "EUR", "amount": 300_000}
    assert client.put("/api/v1/mdf-allocations", json=body, headers=tokens["admin"]).status_code == 403
    created = client.put("/api/v1/mdf-allocations", json=body, headers=tokens["programs"])
    assert created.status_code == 200 and created.json["remaining"] == 300_000
    claim_id = payments.claim(type="mdf", amount=200_000, currency="EUR", period="2026-Q4", proof=True)
    payments.fund(1_000_000, "EUR-FUND", currency="EUR")
    assert payments.approve(claim_id).status_code == 200
    lower = client.put("/api/v1/mdf-allocations", json={**body, "amount": 100_000}, headers=tokens["programs"])
    assert lower.status_code == 422 and lower.json["error"]["code"] == "allocation_below_usage"
    unknown = client.put("/api/v1/mdf-allocations", json={**body, "partner_id": 99999}, headers=tokens["programs"])
    assert unknown.status_code == 404


def test_two_claims_racing_for_the_last_funds_cannot_both_be_approved(payments, app, tokens, sandbox,
                                                                      one_approver):
    setup = payments.claim(type="mdf", amount=ALLOCATION - 10_000, proof=True)
    assert payments.approve(setup).status_code == 200
    # Each fits alone (so both could be submitted); together they exceed what is left.
    racers = [payments.claim(type="mdf", amount=6_000, proof=True) for _ in range(2)]
    barrier = threading.Barrier(2)
    statuses = {}

    def approve(claim_id):
        client = app.test_client()
        barrier.wait()
        answer = client.post(f"/api/v1/claims/{claim_id}/approve", headers=tokens["programs"])
        statuses[claim_id] = (answer.status_code, answer.json.get("error", {}).get("code"))

    threads = [threading.Thread(target=approve, args=(claim_id,)) for claim_id in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses.values()) == [(200, None), (422, "mdf_allocation_exceeded")]
    assert count(app, Payout) == 2  # the setup claim and the winner
    assert count(app, Claim, Claim.status == ClaimStatus.SUBMITTED) == 2  # the loser and the demo claim
    assert ledger_violations(app) == []
