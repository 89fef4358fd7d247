"""Payouts against the sandbox provider over HTTP: webhooks, failures, retries, returns, funding."""
from __future__ import annotations

import json

import sqlalchemy as sa

from app.extensions import db
from app.payments import signing
from app.audit.models import AuditEvent
from app.payments.models import LedgerTransfer, Payout, ProviderEvent, TransferKind
from tests.payments.conftest import count, ledger_violations, wait_until


def _approved(payments, amount=40_000):
    claim_id = payments.claim(amount=amount)
    assert payments.approve(claim_id).status_code == 200
    return claim_id, payments.payout_of(claim_id)


def test_paid_webhook_settles_once_even_when_duplicated(payments, sandbox, app):
    before = payments.balance()
    claim_id, payout = _approved(payments)
    first = payments.webhook("payout.paid", payout["reference"], "evt_1")
    assert first.status_code == 200 and first.json["outcome"] == "paid"
    duplicate = payments.webhook("payout.paid", payout["reference"], "evt_1")
    assert duplicate.status_code == 200 and duplicate.json["outcome"] == "duplicate"
    replay_with_new_id = payments.webhook("payout.paid", payout["reference"], "evt_2")
    assert replay_with_new_id.json["outcome"] == "already_paid"
    assert payments.get_claim(claim_id)["status"] == "paid"
    paid = payments.payout_of(claim_id)
    assert paid["status"] == "paid" and paid["paid_at"]
    after = payments.balance()
    assert after["paid_total"] - before["paid_total"] == 40_000
    assert before["prefunding"]["available"] - after["prefunding"]["available"] == 40_000
    assert after["prefunding"]["pending"] == before["prefunding"]["pending"]
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.SETTLEMENT) == 1
    assert ledger_violations(app) == []


def test_the_ledger_shows_money_in_transit_until_the_provider_confirms_or_fails(payments, sandbox, app):
    before = payments.balance()
    paid_id, paid = _approved(payments, amount=30_000)
    failed_id, failed = _approved(payments, amount=20_000)
    assert paid["status"] == failed["status"] == "in_transit"  # the sandbox accepted both
    handed = payments.balance()
    assert handed["in_transit_total"] - before["in_transit_total"] == 50_000
    assert handed["payable_total"] == before["payable_total"]  # nothing owed that is not yet sent
    assert before["prefunding"]["available"] - handed["prefunding"]["available"] == 50_000

    payments.webhook("payout.paid", paid["reference"], "evt_it_paid")
    payments.webhook("payout.failed", failed["reference"], "evt_it_failed", reason="Account closed")
    after = payments.balance()
    assert after["in_transit_total"] == before["in_transit_total"]
    assert after["paid_total"] - before["paid_total"] == 30_000
    assert before["prefunding"]["available"] - after["prefunding"]["available"] == 30_000
    assert ledger_violations(app) == []


def test_a_webhook_with_a_bad_signature_changes_nothing(payments, sandbox, app):
    claim_id, payout = _approved(payments)
    forged = payments.webhook("payout.paid", payout["reference"], "evt_forged", secret="not-the-secret")
    assert forged.status_code == 401
    assert forged.json["error"]["code"] == "invalid_signature"
    stale = payments.webhook("payout.paid", payout["reference"], "evt_stale",
                             signature="t=1000000000,v1=" + "0" * 64)
    assert stale.status_code == 401
    assert payments.payout_of(claim_id)["status"] == "in_transit"
    assert count(app, ProviderEvent) == 0


def test_failed_payout_releases_the_reservation_and_a_retry_pays_under_a_new_key(payments, sandbox, app):
    start = payments.balance()["prefunding"]["available"]
    claim_id, payout = _approved(payments, amount=30_000)
    assert payments.balance()["prefunding"]["available"] == start - 30_000
    failed = payments.webhook("payout.failed", payout["reference"], "evt_f", reason="Account closed")
    assert failed.json["outcome"] == "failed"
    assert payments.get_claim(claim_id)["status"] == "failed"
    now_failed = payments.payout_of(claim_id)
    assert now_failed["status"] == "failed" and now_failed["failure_reason"] == "Account closed"
    assert payments.balance()["prefunding"]["available"] == start  # voided, not spent
    # A partner cannot retry; programmes can, as a second attempt with its own key.
    assert payments.client.post(f"/api/v1/payouts/{payout['id']}/retry",
                                headers=payments.tokens["admin"]).status_code == 403
    retried = payments.client.post(f"/api/v1/payouts/{payout['id']}/retry", headers=payments.tokens["programs"])
    assert retried.status_code == 200, retried.json
    assert retried.json["attempt"] == 2
    assert payments.payout_of(claim_id)["status"] == "in_transit"
    second_key = f"{payout['reference']}-2"
    assert len(sandbox.payouts_for(second_key)) == 1
    # A late event about the first attempt must not touch the second.
    late = payments.webhook("payout.paid", payout["reference"], "evt_late")
    assert late.json["outcome"] == "stale_attempt"
    assert payments.webhook("payout.paid", second_key, "evt_p2").json["outcome"] == "paid"
    assert payments.get_claim(claim_id)["status"] == "paid"
    assert count(app, Payout) == 1
    assert ledger_violations(app) == []


def test_a_returned_payout_is_reversed_by_a_compensating_transfer_once(payments, sandbox, app):
    start = payments.balance()
    claim_id, payout = _approved(payments, amount=25_000)
    payments.webhook("payout.paid", payout["reference"], "evt_paid")
    returned = payments.webhook("payout.returned", payout["reference"], "evt_ret", reason="Beneficiary recalled")
    assert returned.json["outcome"] == "returned"
    again = payments.webhook("payout.returned", payout["reference"], "evt_ret_2", reason="Beneficiary recalled")
    assert again.json["outcome"] == "ignored"
    claim = payments.get_claim(claim_id)
    assert claim["status"] == "returned" and claim["return_reason"] == "Beneficiary recalled"
    assert payments.payout_of(claim_id)["status"] == "returned"
    end = payments.balance()
    assert end["prefunding"]["available"] == start["prefunding"]["available"]
    assert end["paid_total"] == start["paid_total"]
    with app.app_context():
        kinds = list(db.session.scalars(sa.select(LedgerTransfer.kind).where(
            LedgerTransfer.payout_id == payout["id"]).order_by(LedgerTransfer.id)))
        db.session.remove()
    assert kinds == [TransferKind.RESERVATION, TransferKind.HANDOVER, TransferKind.POST, TransferKind.POST,
                     TransferKind.SETTLEMENT, TransferKind.RETURN]
    assert ledger_violations(app) == []


def test_returned_before_the_paid_webhook_arrived_still_balances(payments, sandbox, app):
    claim_id, payout = _approved(payments, amount=10_000)
    assert payments.webhook("payout.returned", payout["reference"], "evt_r").json["outcome"] == "returned"
    assert payments.get_claim(claim_id)["status"] == "returned"
    assert ledger_violations(app) == []


def test_sandbox_settles_over_http_with_signed_webhooks(payments, sandbox, app, live_server):
    sandbox.faults(settle_after=0.2, duplicate_webhooks=True)
    claim_id, payout = _approved(payments, amount=12_345)
    wait_until(lambda: payments.payout_of(claim_id)["status"] == "paid", what="the paid webhook")
    wait_until(lambda: sandbox.state()["webhooks_sent"] >= 2, what="the duplicate webhook")
    with app.app_context():
        outcomes = sorted(db.session.scalars(sa.select(ProviderEvent.outcome)))
        db.session.remove()
    assert outcomes == ["paid"]  # the duplicate delivery was recognised by its event id
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.SETTLEMENT) == 1
    assert ledger_violations(app) == []


def test_late_return_from_the_sandbox_reopens_the_claim(payments, sandbox, app):
    sandbox.faults(settle_after=0.1, return_next_payouts=1, return_after=0.5)
    claim_id, _ = _approved(payments, amount=5_000)
    wait_until(lambda: payments.get_claim(claim_id)["status"] == "returned", what="the late return")
    assert payments.get_claim(claim_id)["return_reason"] == "Recalled by the beneficiary bank."
    assert ledger_violations(app) == []


def test_provider_5xx_is_retried_with_the_same_key(payments, sandbox, app, monkeypatch):
    # Of the client's three tries only the two refused ones may be lost: a stall of the loaded machine
    # past the usual 5 s must not cost it the third.
    monkeypatch.setitem(app.config, "PAYMENTS_PROVIDER_TIMEOUT", 30.0)
    sandbox.faults(error_next_creates=2)
    claim_id, payout = _approved(payments, amount=7_000)
    # What the provider received: two tries it refused, then the one it took, all under one key.
    sent = sandbox.attempts()
    key = payout["reference"]
    assert [(a["idempotency_key"], a["status"]) for a in sent] == [(key, 503), (key, 503), (key, 201)]
    assert all(a["body"]["amount"] == 7_000 and a["body"]["reference"] == key for a in sent)
    (made,) = sandbox.state()["payouts"]
    assert made["reference"] == key and made["id"] == payout["provider_payout_id"]
    # In transit while the provider processes it. Twice in CI's PostgreSQL leg it read "paid": whatever the
    # cause, the payout must say what the provider says of it, and the message shows both.
    assert payout["status"] == {"processing": "in_transit", "paid": "paid"}.get(made["status"]), (payout, made)


def test_a_provider_timeout_is_asked_again_under_the_same_key_and_pays_once(payments, sandbox, app):
    app.config["PAYMENTS_PROVIDER_TIMEOUT"] = 0.5
    sandbox.faults(slow_next_creates=1, slow_seconds=1.5)
    try:
        claim_id, payout = _approved(payments, amount=8_000)
    finally:
        app.config["PAYMENTS_PROVIDER_TIMEOUT"] = 5.0
    key = payout["reference"]
    # The first call created the payout but answered too late; the second, under the same key,
    # was answered at once with that same payout.
    first, second = sandbox.attempts()
    assert first["idempotency_key"] == second["idempotency_key"] == key
    assert second["status"] == 200 and second["answer"]["id"] == payout["provider_payout_id"]
    (made,) = sandbox.state()["payouts"]
    assert made["reference"] == key and made["id"] == payout["provider_payout_id"]
    assert payout["status"] == "in_transit"
    assert ledger_violations(app) == []


def test_a_payout_the_provider_never_answered_stays_pending_until_the_sweep(payments, sandbox, app):
    from datetime import timedelta

    from app.payments import payouts

    eager = app.extensions["outbox_dispatch"]
    app.extensions["outbox_dispatch"] = lambda events: 0  # the job is lost (worker gone, Redis down)
    try:
        claim_id = payments.claim(amount=8_000)
        assert payments.approve(claim_id).status_code == 200
    finally:
        app.extensions["outbox_dispatch"] = eager
    assert payments.payout_of(claim_id)["status"] == "pending"
    assert sandbox.attempts() == []  # the provider was never asked
    with app.app_context():
        assert payouts.sweep(timedelta(0), timedelta(hours=1))["restarted"] == 1
    assert payments.payout_of(claim_id)["status"] == "in_transit"
    assert ledger_violations(app) == []


def test_payout_without_bank_details_fails_with_a_reason(payments, sandbox, app):
    from app.payments.models import PayeeAccount

    with app.app_context():
        db.session.execute(sa.delete(PayeeAccount))
        db.session.commit()
        db.session.remove()
    claim_id, payout = _approved(payments, amount=9_000)
    assert payout["status"] == "failed"
    assert "bank details" in payout["failure_reason"]
    assert sandbox.attempts() == []  # the provider was never asked
    assert ledger_violations(app) == []


def test_a_webhook_for_a_reference_we_never_issued_is_acknowledged_and_changes_nothing(payments, sandbox, app):
    for reference in ("PO9999999999", "PO0000000777", "not-ours"):
        answer = payments.webhook("payout.paid", reference, f"evt_{reference}")
        assert answer.status_code == 200 and answer.json["outcome"] == "unknown_payout"
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.SETTLEMENT) == 0


def test_news_about_another_payment_under_our_reference_is_kept_and_not_applied(payments, sandbox, app, monkeypatch):
    # References repeat across a database restored from a backup, or a staging copy on the same
    # provider account: news under our reference about another amount or provider payout is not ours.
    claim_id, payout = _approved(payments, amount=7_000)
    reference, ours = payout["reference"], payout["provider_payout_id"]
    other_amount = payments.webhook("payout.paid", reference, "evt_a", amount=5_000, currency="USD")
    other_currency = payments.webhook("payout.failed", reference, "evt_c", amount=7_000, currency="EUR")
    other_payout = payments.webhook("payout.paid", reference, "evt_p", provider_payout_id="sbx_someone_else")
    assert [a.status_code for a in (other_amount, other_currency, other_payout)] == [200, 200, 200]
    assert [a.json["outcome"] for a in (other_amount, other_currency, other_payout)] == ["mismatch"] * 3
    # What the provider says when asked, under another provider payout, is left as well.
    from app.payments import payouts, providers

    polled = [providers.ProviderResult(status="paid", provider_payout_id="sbx_someone_else"),
              providers.ProviderResult(status="paid", provider_payout_id=ours, amount=5_000, currency="USD")]

    class Elsewhere:
        def payout_status(self, key):
            return polled.pop(0)

    monkeypatch.setattr(payouts, "get_provider", lambda name: Elsewhere())
    with app.app_context():
        assert [payouts.refresh_payout(payout["id"]) for _ in range(2)] == ["mismatch", "mismatch"]
        db.session.remove()
    assert count(app, AuditEvent, AuditEvent.action == "payout.provider_mismatch") == 2
    kept = payments.payout_of(claim_id)
    assert (kept["status"], kept["provider_payout_id"]) == ("in_transit", ours)
    assert payments.get_claim(claim_id)["status"] == "payout_pending"
    with app.app_context():
        stored = dict(db.session.execute(sa.select(ProviderEvent.event_id, ProviderEvent.outcome)).all())
        db.session.remove()
    assert stored == {"evt_a": "mismatch", "evt_c": "mismatch", "evt_p": "mismatch"}
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.SETTLEMENT) == 0
    # The provider's own news about it still applies (a currency in lower case is the same currency).
    ours_paid = payments.webhook("payout.paid", reference, "evt_ours", amount=7_000, currency="usd")
    assert ours_paid.json["outcome"] == "paid"
    assert ledger_violations(app) == []


def test_an_event_with_an_amount_that_is_no_amount_is_refused(payments, sandbox, app):
    claim_id, payout = _approved(payments, amount=7_000)
    for n, data in enumerate(({"amount": "7000"}, {"amount": 7000.0}, {"amount": -7_000}, {"amount": True},
                              {"amount": 7_000, "currency": "dollars"}, {"amount": 7_000, "currency": "U$D"})):
        answer = payments.webhook("payout.paid", payout["reference"], f"evt_{n}", **data)
        assert answer.status_code == 400 and answer.json["error"]["code"] == "malformed_webhook", data
    assert payments.payout_of(claim_id)["status"] == "in_transit"
    assert count(app, ProviderEvent) == 0


def _delivery(payments, events, secret=None):
    """One signed webhook delivery carrying several events, as a batching provider sends them."""
    return _signed(payments, {"events": [
        {"id": event_id, "type": type,
         "data": {"id": payments.provider_payout_id(reference) or "sbx_b", "reference": reference}}
        for type, reference, event_id in events]}, secret)


def _signed(payments, delivery: dict, secret=None):
    body = json.dumps(delivery).encode()
    header = signing.sign(secret or payments.app.config["PAYMENTS_WEBHOOK_SECRET"], body)
    return payments.client.post("/webhooks/payments/sandbox", data=body, content_type="application/json",
                                headers={signing.HEADER: header, "Accept": "application/json"})


def test_a_delivery_of_many_events_applies_each_once_in_order(payments, sandbox, app):
    paid_id, paid = _approved(payments, amount=11_000)
    returned_id, returned = _approved(payments, amount=12_000)
    answer = _delivery(payments, [
        ("payout.paid", paid["reference"], "evt_b1"),
        ("payout.paid", paid["reference"], "evt_b1"),  # the same event twice in one delivery
        ("payout.paid", returned["reference"], "evt_b2"),
        ("payout.returned", returned["reference"], "evt_b3"),  # after its paid, in the same delivery
        ("payout.paid", "PO0000999999", "evt_b4"),
        ("payout.paid", paid["reference"] + "-7", "evt_b5"),  # an attempt that never was
    ])
    assert answer.status_code == 200, answer.json
    assert [r["outcome"] for r in answer.json["results"]] == [
        "paid", "duplicate", "paid", "returned", "unknown_payout", "stale_attempt"]
    assert payments.get_claim(paid_id)["status"] == "paid"
    assert payments.get_claim(returned_id)["status"] == "returned"
    again = _delivery(payments, [("payout.paid", paid["reference"], "evt_b1"),
                                 ("payout.returned", returned["reference"], "evt_b3")])
    assert [r["outcome"] for r in again.json["results"]] == ["duplicate", "duplicate"]
    assert count(app, ProviderEvent) == 5
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.SETTLEMENT) == 2
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.RETURN) == 1
    assert ledger_violations(app) == []


def test_a_delivery_with_a_bad_signature_or_one_malformed_event_changes_nothing(payments, sandbox, app):
    claim_id, payout = _approved(payments, amount=13_000)
    forged = _delivery(payments, [("payout.paid", payout["reference"], "evt_f1")], secret="not-the-secret")
    assert forged.status_code == 401
    for broken in ({"id": "evt_f3", "type": "payout.paid"}, {"id": "e" * 101, "type": "payout.paid", "data": {}},
                   {"id": "evt_f4", "type": "", "data": {"reference": "x"}}):
        answer = _signed(payments, {"events": [
            {"id": "evt_f2", "type": "payout.paid", "data": {"reference": payout["reference"]}}, broken]})
        assert answer.status_code == 400 and answer.json["error"]["code"] == "malformed_webhook"
    assert payments.get_claim(claim_id)["status"] == "payout_pending"
    assert count(app, ProviderEvent) == 0


def test_an_event_of_a_kind_not_acted_on_is_acknowledged_and_the_rest_of_the_delivery_applies(
        payments, sandbox, app):
    claim_id, payout = _approved(payments, amount=16_000)
    answer = _delivery(payments, [("payout.created", payout["reference"], "evt_k1"),
                                  ("payout.paid", payout["reference"], "evt_k2")])
    assert answer.status_code == 200, answer.json
    assert [r["outcome"] for r in answer.json["results"]] == ["ignored_type", "paid"]
    single = payments.webhook("payout.updated", payout["reference"], "evt_k3")
    assert single.status_code == 200 and single.json["outcome"] == "ignored_type"
    assert payments.get_claim(claim_id)["status"] == "paid"
    assert count(app, ProviderEvent) == 3
    assert ledger_violations(app) == []


def test_the_sandbox_batching_its_webhooks_settles_every_payout_once(payments, sandbox, app):
    sandbox.faults(settle_after=0.3, duplicate_webhooks=True, webhook_batch=10)
    claim_ids = [payments.claim(amount=1_000 + n) for n in range(6)]
    answer = payments.client.post("/api/v1/claims/approvals", json={"claim_ids": claim_ids},
                                  headers=payments.tokens["programs"])
    assert answer.status_code == 200, answer.json
    wait_until(lambda: all(payments.get_claim(c)["status"] == "paid" for c in claim_ids), what="six payouts paid")
    wait_until(lambda: sandbox.state()["webhooks_sent"] >= 12, what="every duplicate")
    assert count(app, ProviderEvent) == 6
    assert count(app, LedgerTransfer, LedgerTransfer.kind == TransferKind.SETTLEMENT) == 6
    assert ledger_violations(app) == []


def test_an_event_for_a_payout_waiting_for_funds_is_stale_and_the_rest_of_the_delivery_applies(
        payments, sandbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)
    paid_id, paid = _approved(payments, amount=14_000)
    failed_id, failed = _approved(payments, amount=15_000)
    assert payments.webhook("payout.failed", failed["reference"], "evt_w1").json["outcome"] == "failed"
    available = payments.balance()["prefunding"]["available"]
    last_id = payments.claim(amount=available)
    assert payments.approve(last_id).status_code == 200
    assert payments.payout_of(last_id)["status"] == "in_transit"
    assert payments.balance()["prefunding"]["available"] == 0  # nothing left for the retry
    retried = payments.client.post(f"/api/v1/payouts/{failed['id']}/retry", headers=payments.tokens["programs"])
    assert retried.status_code == 200 and retried.json["status"] == "awaiting_funds", retried.json
    answer = _delivery(payments, [("payout.paid", failed["reference"] + "-2", "evt_w2"),
                                  ("payout.paid", paid["reference"], "evt_w3")])
    assert [r["outcome"] for r in answer.json["results"]] == ["stale_attempt", "paid"]
    assert payments.payout_of(failed_id)["status"] == "awaiting_funds"
    assert payments.get_claim(paid_id)["status"] == "paid"
    assert ledger_violations(app) == []
