"""A partner puts a draft claim right before submitting it: an MDF claim over what is left of its
allocation, a wrong period or amount. Once submitted, a claim no longer changes."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db

ALLOCATION = 5_000_000  # the demo's Northwind 2026-Q3 USD allocation


def test_a_draft_refused_for_its_allocation_is_lowered_and_then_submitted(payments, client, tokens):
    claim_id = payments.claim(type="mdf", amount=ALLOCATION + 1, proof=True, submit=False)
    refused = client.post(f"/api/v1/claims/{claim_id}/submit", headers=tokens["admin"])
    assert refused.status_code == 422 and refused.json["error"]["code"] == "mdf_allocation_exceeded"
    changed = client.patch(f"/api/v1/claims/{claim_id}", json={"amount": ALLOCATION}, headers=tokens["admin"])
    assert changed.status_code == 200, changed.json
    assert (changed.json["amount"], changed.json["period"], changed.json["type"]) == (ALLOCATION, "2026-Q3", "mdf")
    assert client.post(f"/api/v1/claims/{claim_id}/submit", headers=tokens["admin"]).status_code == 200
    # Submitted, it is the programmes team's to decide on: it no longer changes.
    late = client.patch(f"/api/v1/claims/{claim_id}", json={"amount": 1_000}, headers=tokens["admin"])
    assert late.status_code == 409 and late.json["error"]["code"] == "illegal_transition"
    assert payments.get_claim(claim_id)["amount"] == ALLOCATION
    assert _changes(payments.app) == [({"amount": ALLOCATION + 1}, {"amount": ALLOCATION})]


def _changes(app) -> list[tuple[dict, dict]]:
    """What each claim.changed audit event says changed: (before, after)."""
    with app.app_context():
        found = [(e.before, e.after) for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "claim.changed").order_by(AuditEvent.id))]
        db.session.remove()
    return found


def test_the_audit_says_what_changed_the_description_too_and_nothing_when_nothing_did(payments, client, tokens):
    claim_id = payments.claim(amount=10_000, submit=False)
    url = f"/api/v1/claims/{claim_id}"
    assert client.patch(url, json={"description": "  Q3 rebate, X465 deal  "}, headers=tokens["admin"]).json[
        "description"] == "Q3 rebate, X465 deal"
    assert client.patch(url, json={"description": "Q3 rebate, X465 deal", "amount": 10_000},
                        headers=tokens["admin"]).status_code == 200
    assert _changes(payments.app) == [({"description": "rebate claim for 10000"},
                                       {"description": "Q3 rebate, X465 deal"})]


def test_a_change_no_one_may_make_or_that_says_nothing_changes_nothing(payments, client, tokens):
    claim_id = payments.claim(amount=10_000, submit=False)
    for who, body, status in (("programs", {"amount": 1}, 403), ("contoso", {"amount": 1}, 404),
                              ("admin", {}, 400), ("admin", {"amount": -5}, 400), ("admin", {"amount": 1.5}, 400),
                              ("admin", {"period": "2026-Q9"}, 400), ("admin", {"currency": "dollars"}, 400),
                              ("admin", {"type": "mdf"}, 400), ("admin", {"description": ""}, 400),
                              ("admin", {"description": "   "}, 400), ("admin", {"currency": "EUR"}, 400)):
        answer = client.patch(f"/api/v1/claims/{claim_id}", json=body, headers=tokens[who])
        assert answer.status_code == status, (who, body, answer.json)
    claim = payments.get_claim(claim_id)
    assert (claim["amount"], claim["type"], claim["period"], claim["currency"]) == (10_000, "rebate", "2026-Q3", "USD")
    assert _changes(payments.app) == []


def test_the_claim_page_changes_a_draft(payments, signed_in):
    claim_id = payments.claim(amount=10_000, submit=False)
    page = signed_in("admin")
    shown = page.get(f"/payments/claims/{claim_id}").get_data(as_text=True)
    assert re.search(r'id="draft-amount"[^>]* value="100.00"', shown)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', shown).group(1)
    form = {"csrf_token": token, "amount": "1,250.50", "currency": "usd", "period": "2026-Q4",
            "description": "Q4 rebate on the X465 deal"}
    refused = page.post(f"/payments/claims/{claim_id}/draft", data={**form, "amount": "12.345"})
    assert refused.status_code == 400
    assert 'value="12.345"' in refused.get_data(as_text=True)  # what was typed comes back, with why
    no_currency = page.post(f"/payments/claims/{claim_id}/draft", data={**form, "currency": "XYZ"})
    assert re.search(r'id="draft-currency-error">Not an ISO 4217 currency code.<', no_currency.get_data(as_text=True))
    assert payments.get_claim(claim_id)["amount"] == 10_000
    saved = page.post(f"/payments/claims/{claim_id}/draft", data=form)
    assert saved.status_code == 303
    claim = payments.get_claim(claim_id)
    assert (claim["amount"], claim["currency"], claim["period"], claim["description"]) == (
        125_050, "USD", "2026-Q4", "Q4 rebate on the X465 deal")
