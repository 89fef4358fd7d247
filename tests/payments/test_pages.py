"""Payments pages: what partners and the programmes team see, and the CSV export."""
from __future__ import annotations

import csv
import io

import pytest

from app.clock import now
from app.quarters import quarter_of
from tests.payments.conftest import count


def test_partner_page_lists_payments_with_claims_and_masked_bank_details(payments, sandbox, signed_in, app,
                                                                         monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)
    claim_id = payments.claim(amount=123_456)
    payments.approve(claim_id)
    payout = payments.payout_of(claim_id)
    page = signed_in("admin").get("/payments/partner")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert payout["reference"] in html and f"Claim {claim_id}" in html
    assert "1,234.56 USD" in html
    assert "GB33 **** 5555" in html and "GB33BUKB20201555555555" not in html


def test_partner_exports_its_payments_as_csv(payments, sandbox, signed_in):
    claim_id = payments.claim(amount=50_000)
    payments.approve(claim_id)
    payout = payments.payout_of(claim_id)
    payments.webhook("payout.paid", payout["reference"], "evt_csv")
    answer = signed_in("admin").get("/payments/export.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["payment_reference"], r["status"], r["amount_minor_units"], r["claim_id"]) for r in rows] == [
        (payout["reference"], "paid", "50000", str(claim_id))]


def test_a_reason_from_the_provider_that_looks_like_a_formula_is_exported_as_text(payments, sandbox, signed_in):
    claim_id = payments.claim(amount=50_000)
    payments.approve(claim_id)
    payout = payments.payout_of(claim_id)
    payments.webhook("payout.failed", payout["reference"], "evt_formula", reason="=HYPERLINK(\"http://x\",\"Fix\")")
    rows = list(csv.DictReader(io.StringIO(signed_in("admin").get("/payments/export.csv").get_data(as_text=True))))
    assert [(r["status"], r["reason"]) for r in rows] == [("failed", "'=HYPERLINK(\"http://x\",\"Fix\")")]


def test_programmes_page_shows_balance_pipeline_chart_and_claims_to_decide(payments, sandbox, signed_in):
    claim_id = payments.claim(amount=20_000)
    payments.approve(claim_id)
    waiting = payments.claim(amount=30_000)
    page = signed_in("programs").get("/payments/programmes")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "249,800.00 USD" in html  # 250,000.00 funded by the demo less the 200.00 reserved
    assert "<svg" in html and "in transit (1)" in html
    assert f"Approve claim {waiting}" in html


@pytest.mark.parametrize("who, path", [("engineer", "/payments/partner"), ("admin", "/payments/programmes"),
                                       ("customer", "/payments")])
def test_pages_refuse_other_roles(signed_in, who, path):
    assert signed_in(who).get(path).status_code == 403


def test_reconciliation_page_lists_exceptions(payments, sandbox, signed_in, app, monkeypatch):
    claim_id = payments.claim(amount=40_000)
    payments.approve(claim_id)
    reference = payments.payout_of(claim_id)["reference"]
    statement = ("provider_payout_id,reference,amount,currency,status\n"
                 f"sbx_1,{reference},41000,USD,processing\n"
                 "sbx_2,PO9999999999,500,USD,paid\n")
    client = signed_in("programs")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # the form's token is the browser test's business
    answer = client.post("/payments/programmes/reconciliation", data={
        "stmt-statement": (io.BytesIO(statement.encode()), "statement.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    html = answer.get_data(as_text=True)
    assert "0 of 2 line(s) matched, 2 exception(s)" in html
    assert "amount mismatch" in html and "unknown reference" in html


def test_partner_files_a_claim_and_enters_bank_details_through_the_forms(signed_in, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    client = signed_in("admin")
    bad = client.post("/payments/partner", data={"claim-type": "rebate", "claim-amount": "12.345",
                                                 "claim-currency": "USD", "claim-period": "2026-Q3",
                                                 "claim-description": "Q3 rebate"})
    assert bad.status_code == 400 and "more than 2 decimals for USD" in bad.get_data(as_text=True)
    good = client.post("/payments/partner", data={"claim-type": "rebate", "claim-amount": "1,234.50",
                                                  "claim-currency": "USD", "claim-period": "2026-Q3",
                                                  "claim-description": "Q3 rebate"}, follow_redirects=True)
    assert "saved as a draft" in good.get_data(as_text=True)
    assert "1,234.50 USD" in good.get_data(as_text=True)
    refused = client.post("/payments/payee", data={"payee-kind": "iban", "payee-holder_name": "Northwind",
                                                   "payee-iban": "DE00 0000"}, follow_redirects=True)
    assert "Not a valid IBAN" in refused.get_data(as_text=True)
    saved = client.post("/payments/payee", data={"payee-kind": "iban", "payee-holder_name": "Northwind",
                                                 "payee-iban": "DE89370400440532013000"}, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert "DE89 **** 3000" in html and "DE89370400440532013000" not in html


def test_a_refused_programmes_form_is_drawn_again_with_what_was_typed_and_why(signed_in, app, monkeypatch):
    from app.payments.models import FundingDeposit, MdfAllocation

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    client = signed_in("programs")
    before = (count(app, FundingDeposit), count(app, MdfAllocation))
    refused = [
        (client.post("/payments/programmes/funding", data={
            "fund-amount": "12.345", "fund-currency": "USD", "fund-reference": "DEP-77"}),
         "more than 2 decimals for USD", 'value="DEP-77"'),
        (client.post("/payments/programmes/allocations", data={
            "mdf-partner_id": "0", "mdf-period": "2026-Q4", "mdf-currency": "USD", "mdf-amount": "5,000"}),
         "Choose a partner.", 'value="5,000"'),
        (client.post("/payments/programmes/reconciliation", data={}, content_type="multipart/form-data"),
         "This field is required.", "Provider statement"),
    ]
    for answer, reason, kept in refused:
        html = answer.get_data(as_text=True)
        assert answer.status_code == 400, reason
        assert reason in html and kept in html
        # Read again (a reload, the payout feed's catch-up) from the page's address, not the form's.
        assert '<link rel="canonical" href="/payments/programmes">' in html
    assert (count(app, FundingDeposit), count(app, MdfAllocation)) == before
    good = {"fund-amount": "250.00", "fund-currency": "USD", "fund-reference": "DEP-78"}
    assert client.post("/payments/programmes/funding", data=good).status_code == 303
    conflict = client.post("/payments/programmes/funding", data={**good, "fund-amount": "300.00"})
    assert conflict.status_code == 409
    assert "already recorded with another amount" in conflict.get_data(as_text=True)
    assert count(app, FundingDeposit) == before[0] + 1


def test_the_claim_and_allocation_forms_start_at_the_current_quarter(app, signed_in):
    import re

    with app.app_context():
        this_quarter = quarter_of(now().date())[0]
    claim_form = signed_in("admin").get("/payments/partner").get_data(as_text=True)
    allocation_form = signed_in("programs").get("/payments/programmes").get_data(as_text=True)
    assert re.search(rf'<input[^>]*name="claim-period"[^>]*value="{this_quarter}"', claim_form)
    assert re.search(rf'<input[^>]*name="mdf-period"[^>]*value="{this_quarter}"', allocation_form)
