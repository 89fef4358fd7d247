"""Claims through the SPEC §10 API: drafts, validation, roles, tenancy, approval and rejection."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import Organisation, Role, User
from app.accounts.passwords import hash_password
from app.accounts.services import issue_token
from app.audit.models import AuditEvent
from app.extensions import db
from app.payments import claims
from app.payments.models import Claim, Payout
from tests.payments.conftest import count, ledger_violations

GOOD = {"type": "rebate", "amount": 123456, "currency": "USD", "period": "2026-Q3",
        "description": "Q3 rebate"}


@pytest.mark.parametrize("field, value", [
    ("amount", 12.5), ("amount", "123456"), ("amount", True), ("amount", 0), ("amount", -5),
    ("amount", 10**15), ("currency", "usd"), ("currency", "XXX"), ("currency", "DOLLARS"),
    ("period", "2026-Q5"), ("period", "Q3-2026"), ("type", "bonus"), ("description", ""),
])
def test_bad_claim_is_refused_with_the_field_and_nothing_is_written(client, tokens, app, field, value):
    before = count(app, Claim)
    answer = client.post("/api/v1/claims", json={**GOOD, field: value}, headers=tokens["admin"])
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_input"
    assert field in answer.json["error"]["details"]["fields"]
    assert count(app, Claim) == before


def test_malformed_json_and_missing_fields_are_400(client, tokens):
    answer = client.post("/api/v1/claims", data="{not json", content_type="application/json",
                         headers=tokens["admin"])
    assert answer.status_code == 400
    missing = client.post("/api/v1/claims", json={"type": "rebate"}, headers=tokens["admin"])
    assert missing.status_code == 400
    assert set(missing.json["error"]["details"]["fields"]) >= {"amount", "currency", "period", "description"}


@pytest.mark.parametrize("who", ["engineer", "customer", "gtac", "programs", "vendor_admin"])
def test_only_a_partner_admin_files_claims(client, tokens, who):
    answer = client.post("/api/v1/claims", json=GOOD, headers=tokens[who])
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "role_not_allowed"


def test_draft_submit_approve_starts_the_payout(payments, sandbox, client, tokens, app):
    claim_id = payments.claim(amount=75_000)
    claim = payments.get_claim(claim_id)
    assert claim["status"] == "submitted" and claim["payout_status"] is None
    approved = payments.approve(claim_id)
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "payout_pending"
    payout = payments.payout_of(claim_id)
    # The job ran right after the approval's commit and handed the payout to the provider.
    assert payout["status"] == "in_transit"
    assert payout["claim_ids"] == [claim_id]
    assert sandbox.payouts_for(payout["reference"])[0]["amount"] == 75_000
    balance = payments.balance()
    assert balance["prefunding"]["pending"] == 75_000
    assert payments.get_claim(claim_id, who="admin")["payout_status"] == "in_transit"
    assert ledger_violations(app) == []


def test_partner_sees_own_claims_only_and_other_tenants_get_404(payments, sandbox, client, tokens, app):
    claim_id = payments.claim()
    with app.app_context():
        contoso = db.session.scalars(sa.select(Organisation).filter_by(name="Contoso Integrators")).one()
        other = User(email="admin@contoso.example", name="Cora Contoso", role=Role.PARTNER_ADMIN,
                     organisation_id=contoso.id, password_hash=hash_password("x" * 12))
        db.session.add(other)
        db.session.commit()
        secret, _ = issue_token(other, "test")
        db.session.remove()
    contoso_admin = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"/api/v1/claims/{claim_id}", headers=contoso_admin).status_code == 404
    assert client.post(f"/api/v1/claims/{claim_id}/submit", headers=contoso_admin).status_code == 404
    assert client.post(f"/api/v1/claims/{claim_id}/approve", headers=contoso_admin).status_code == 404
    listed = client.get("/api/v1/claims", headers=contoso_admin)
    assert listed.status_code == 200 and listed.json["items"] == []
    mine = client.get("/api/v1/claims", headers=tokens["admin"]).json["items"]
    assert claim_id in [c["id"] for c in mine]
    everyone = client.get("/api/v1/claims", headers=tokens["programs"]).json["items"]
    assert claim_id in [c["id"] for c in everyone]
    # Visible but not theirs to do: the partner cannot approve its own claim.
    assert payments.approve(claim_id, who="admin").status_code == 403
    # Outside the partner: an engineer of another partner does not learn it exists.
    assert client.get(f"/api/v1/claims/{claim_id}", headers=tokens["contoso"]).status_code == 404
    assert client.post(f"/api/v1/claims/{claim_id}/approve", headers=tokens["contoso"]).status_code == 404
    assert payments.get_claim(claim_id)["status"] == "submitted"


def test_reject_needs_a_reason_and_is_final(payments, client, tokens, app):
    claim_id = payments.claim()
    no_reason = client.post(f"/api/v1/claims/{claim_id}/reject", json={}, headers=tokens["programs"])
    assert no_reason.status_code == 400
    rejected = client.post(f"/api/v1/claims/{claim_id}/reject", json={"reason": "No sell-out report attached."},
                           headers=tokens["programs"])
    assert rejected.status_code == 200
    assert rejected.json["status"] == "rejected"
    assert rejected.json["rejection_reason"] == "No sell-out report attached."
    again = payments.approve(claim_id)
    assert again.status_code == 409 and again.json["error"]["code"] == "illegal_transition"
    assert count(app, Payout) == 0
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.entity_type == "claim", AuditEvent.entity_id == str(claim_id)).order_by(AuditEvent.id)))
        db.session.remove()
    assert actions == ["claim.created", "claim.submitted", "claim.rejected"]


def test_a_draft_cannot_be_approved_and_a_claim_submits_once(payments, client, tokens):
    claim_id = payments.claim(submit=False)
    assert payments.approve(claim_id).status_code == 409
    assert client.post(f"/api/v1/claims/{claim_id}/submit", headers=tokens["admin"]).status_code == 200
    assert client.post(f"/api/v1/claims/{claim_id}/submit", headers=tokens["admin"]).status_code == 409


def test_above_the_threshold_a_second_different_approver_is_needed(payments, sandbox, client, tokens, app):
    threshold = app.config["PAYMENTS_SECOND_APPROVAL_ABOVE"]
    claim_id = payments.claim(amount=threshold + 1)
    first = payments.approve(claim_id)
    assert first.status_code == 200
    assert first.json["status"] == "submitted" and first.json["awaiting_second_approval"] is True
    assert count(app, Payout) == 0
    same = payments.approve(claim_id)
    assert same.status_code == 422
    assert same.json["error"]["code"] == "second_approver_required"
    with app.app_context():
        vendor_id = db.session.scalars(sa.select(User.organisation_id).filter_by(email="programs@vendor.example")).one()
        second = User(email="programs2@vendor.example", name="Pat Programs", role=Role.PROGRAMS,
                      organisation_id=vendor_id, password_hash=hash_password("x" * 12))
        db.session.add(second)
        db.session.commit()
        secret, _ = issue_token(second, "test")
        db.session.remove()
    done = client.post(f"/api/v1/claims/{claim_id}/approve", headers={"Authorization": f"Bearer {secret}"})
    assert done.status_code == 200, done.json
    assert done.json["status"] == "payout_pending"
    assert done.json["first_approved_by_id"] != done.json["approved_by_id"]
    assert count(app, Payout) == 1


def test_at_the_threshold_one_approval_is_enough(payments, sandbox, app):
    claim_id = payments.claim(amount=app.config["PAYMENTS_SECOND_APPROVAL_ABOVE"])
    answer = payments.approve(claim_id)
    assert answer.json["status"] == "payout_pending"


def test_unknown_claim_is_404_with_the_error_body(client, tokens):
    answer = client.get("/api/v1/claims/999999", headers=tokens["programs"])
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "claim_not_found"
    assert client.get("/api/v1/claims", headers={}).status_code == 401


def test_a_claim_is_read_with_its_payout_at_once(payments, sandbox, app, demo):
    """The page and the API show the claim's status and its payout's from one read: read apart, a payout
    paid in between showed as paid on a claim still waiting for it."""
    claim_id = payments.claim(amount=12_000)
    assert payments.approve(claim_id).status_code == 200
    statements = []

    def counted(conn, cursor, statement, *args):
        statements.append(statement)

    with app.test_request_context():
        claim = claims.get_claim(db.session.get(User, demo["programs"].id), claim_id)
        sa.event.listen(db.engine, "before_cursor_execute", counted)
        try:
            seen = (claim.status.value, claim.payout.status.value)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counted)
    assert seen == ("payout_pending", "in_transit")
    assert statements == [], statements
