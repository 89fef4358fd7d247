"""The forms added for jobs that were API-only refuse a post without the page's CSRF token, and change nothing."""
from __future__ import annotations

import io

import pytest

from app.accounts.models import ApiToken
from app.payments.models import ClaimAttachment, MdfAllocation
from tests.web.helpers import count, sign_in


@pytest.mark.parametrize("who, path, data", [
    ("engineer", "/account/tokens", {"name": "forged"}),
    ("admin", "/webhooks", {"url": "https://hooks.example.net/x"}),
    ("programs", "/payments/programmes/allocations",
     {"mdf-partner_id": "1", "mdf-period": "2026-Q4", "mdf-currency": "USD", "mdf-amount": "5"}),
    ("engineer", "/cases/1/severity", {"severity": "S1"}),
    ("manager", "/srs/SR-0000001/severity", {"severity": "S1"}),
    ("manager", "/srs/SR-0000001/assignment", {"assignee_id": "1"}),
])
def test_a_post_without_the_csrf_token_is_refused(app, client, demo, who, path, data):
    sign_in(client, who)
    before = (count(app, ApiToken), count(app, MdfAllocation))
    answer = client.post(path, data=data)
    assert answer.status_code == 400
    assert (count(app, ApiToken), count(app, MdfAllocation)) == before


def test_a_proof_upload_without_the_csrf_token_keeps_nothing(app, client, demo, tokens):
    created = client.post("/api/v1/claims", headers=tokens["admin"], json={
        "type": "mdf", "amount": 1000, "currency": "USD", "period": "2026-Q3", "description": "Roadshow"})
    claim_id = created.json["id"]
    sign_in(client, "admin")
    answer = client.post(f"/payments/claims/{claim_id}/proof", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"%PDF-1.4 photos"), "proof.pdf")})
    assert answer.status_code == 303
    assert count(app, ClaimAttachment, ClaimAttachment.claim_id == claim_id) == 0
    assert "Reload the page" in client.get(f"/payments/claims/{claim_id}").get_data(as_text=True)
