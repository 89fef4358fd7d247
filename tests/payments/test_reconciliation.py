"""Reconciliation of a provider statement (the sandbox's own CSV) against our payouts."""
from __future__ import annotations

import io

import requests

from tests.payments.conftest import wait_until


def _import(payments, csv_text, who="programs"):
    return payments.client.post("/api/v1/reconciliation/statements", headers=payments.tokens[who],
                                data={"file": (io.BytesIO(csv_text.encode()), "statement.csv")},
                                content_type="multipart/form-data")


def test_the_sandbox_statement_matches_every_settled_payout(payments, sandbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)
    sandbox.faults(settle_after=0.1)
    claim_ids = [payments.claim(amount=1_000 * (i + 1)) for i in range(3)]
    for claim_id in claim_ids:
        payments.approve(claim_id)
    wait_until(lambda: all(payments.payout_of(c)["status"] == "paid" for c in claim_ids), what="three payouts paid")
    statement = requests.get(f"{sandbox.url}/v1/statement.csv", timeout=5, headers={
        "Authorization": f"Bearer {app.config['PAYMENTS_SANDBOX_API_KEY']}"}).text
    answer = _import(payments, statement)
    assert answer.status_code == 201, answer.json
    assert (answer.json["lines"], answer.json["matched"], answer.json["exceptions"]) == (3, 3, [])


def test_differences_are_listed_as_exceptions(payments, sandbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)
    paid, short, missing = (payments.claim(amount=a) for a in (1_000, 2_000, 3_000))
    for claim_id in (paid, short, missing):
        payments.approve(claim_id)
    refs = {c: payments.payout_of(c)["reference"] for c in (paid, short, missing)}
    statement = ("provider_payout_id,reference,amount,currency,status\n"
                 f"x1,{refs[paid]},1000,USD,paid\n"
                 f"x2,{refs[short]},1999,USD,processing\n"
                 "x3,PO0000009999,10,USD,paid\n")
    report = _import(payments, statement).json
    codes = {(e["reference"], e["code"]) for e in report["exceptions"]}
    assert codes == {(refs[paid], "status_mismatch"), (refs[short], "amount_mismatch"),
                     ("PO0000009999", "unknown_reference"), (refs[missing], "missing_from_statement")}
    again = payments.client.get(f"/api/v1/reconciliation/statements/{report['id']}",
                                headers=payments.tokens["programs"])
    assert again.json["exceptions"] == report["exceptions"]


def test_a_malformed_statement_is_refused_and_partners_may_not_import(payments):
    bad = _import(payments, "reference,amount\nPO1,ten\n")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_statement"
    wrong_amount = _import(payments, "provider_payout_id,reference,amount,currency,status\nx,PO1,1.5,USD,paid\n")
    assert wrong_amount.status_code == 400 and wrong_amount.json["error"]["details"]["line"] == 2
    assert _import(payments, "provider_payout_id,reference,amount,currency,status\n", who="admin").status_code == 403
