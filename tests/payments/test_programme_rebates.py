"""A closed programme period's rebate claims (Northwind has bank details in the demo), approved in bulk, go out through the payout path."""
from __future__ import annotations

import pytest

from tests.payments.conftest import ledger_violations
from tests.programmes.helpers import HEADER
from tests.programmes.test_programme_api import programme, upload


@pytest.fixture
def one_approver(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)


def test_bulk_approval_of_a_period_pays_each_rebate_claim(client, tokens, payments, sandbox, app, one_approver):
    programme_id, period_id = programme(client, tokens)
    upload(client, tokens, "\n".join([HEADER, "Northwind Networks,INV-1,2025-08-01,EXOS,120000.00,USD",
                                      "Contoso Integrators,INV-2,2025-08-01,VOSS,50000.00,USD"]))
    closed = client.post(f"/api/v1/programmes/{programme_id}/periods/{period_id}/close", headers=tokens["programs"])
    claim_ids = sorted(s["claim_id"] for s in closed.json["items"] if s["claim_id"])
    assert len(claim_ids) == 1  # Contoso, at 50 % of its target, earns nothing
    approved = client.post(f"/api/v1/programmes/{programme_id}/periods/{period_id}/approvals",
                           headers=tokens["programs"])
    assert approved.status_code == 200, approved.json
    assert approved.json["claim_ids"] == claim_ids
    for claim_id in claim_ids:
        payout = payments.payout_of(claim_id)
        assert payout["status"] == "in_transit"
        assert len(sandbox.payouts_for(payout["reference"])) == 1
    again = client.post(f"/api/v1/programmes/{programme_id}/periods/{period_id}/approvals", headers=tokens["programs"])
    assert again.status_code == 409
    assert ledger_violations(app) == []
