"""Approving a claim answers with ClaimSchema's shape built by hand (app/payments/api.py): the answer must be
exactly what ClaimSchema makes of the claim, byte for byte, whatever the approval did with it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import jsonify

from app.extensions import db
from app.payments.api import claim_answer
from app.payments.models import Claim
from app.payments.schemas import ClaimSchema


@pytest.fixture
def held_events(app, monkeypatch):
    """Committed outbox events are held, not run: the payout stays as the approval left it, so the
    claim read back afterwards is the one the approval answered with."""
    held = []
    monkeypatch.setitem(app.extensions, "outbox_dispatch", held.extend)
    return held


def schema_bytes(app, claim_id: int) -> bytes:
    with app.app_context(), app.test_request_context():
        try:
            return jsonify(ClaimSchema().dump(db.session.get(Claim, claim_id))).get_data()
        finally:
            db.session.remove()


def approved_as_schema_renders_it(app, payments, claim_id: int, who: str = "programs"):
    answer = payments.approve(claim_id, who=who)
    assert answer.status_code == 200, answer.json
    assert answer.get_data() == schema_bytes(app, claim_id)
    return answer.json


def test_an_approved_rebate_is_answered_as_claim_schema_renders_it(app, payments, held_events):
    approved = approved_as_schema_renders_it(app, payments, payments.claim(amount=75_000))
    assert approved["status"] == "payout_pending" and approved["payout"]["status"] == "pending"
    assert approved["payout"]["reference"].startswith("PO") and approved["attachments"] == []


def test_a_first_approval_is_answered_as_claim_schema_renders_it(app, payments, held_events):
    claim_id = payments.claim(amount=app.config["PAYMENTS_SECOND_APPROVAL_ABOVE"] + 1)
    waiting = approved_as_schema_renders_it(app, payments, claim_id)
    assert waiting["awaiting_second_approval"] is True and waiting["payout"] is None
    assert waiting["payout_status"] is None and waiting["first_approved_at"] is not None


def test_an_approved_mdf_claim_lists_its_proofs_as_claim_schema_does(app, payments, held_events, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)
    claim_id = payments.claim(type="mdf", amount=20_000, proof=True)
    approved = approved_as_schema_renders_it(app, payments, claim_id)
    assert [proof["filename"] for proof in approved["attachments"]] == ["proof.pdf"]


def test_a_payout_waiting_for_funds_is_answered_as_claim_schema_renders_it(app, payments, held_events, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)
    available = payments.balance()["prefunding"]["available"]
    approved_as_schema_renders_it(app, payments, payments.claim(amount=available + 1))
    queued = approved_as_schema_renders_it(app, payments, payments.claim(amount=1))
    assert queued["payout_status"] == "awaiting_funds"


def test_claims_in_every_state_render_as_claim_schema_does(app, payments, held_events):
    payments.claim(submit=False)
    payments.claim()
    rejected = payments.claim()
    assert payments.client.post(f"/api/v1/claims/{rejected}/reject", json={"reason": "Not this period."},
                                headers=payments.tokens["programs"]).status_code == 200
    payments.approve(payments.claim(amount=1_000))
    with app.app_context():
        try:
            every = list(db.session.scalars(sa.select(Claim).order_by(Claim.id)))
            assert len(every) >= 4  # the demo's own claims as well
            for claim in every:
                assert claim_answer(claim) == ClaimSchema().dump(claim), claim.status
        finally:
            db.session.remove()
