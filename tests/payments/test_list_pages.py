"""The claim and payout lists: every claim and payout the caller may see, with the API's filters, a
page at a time; a filter or page link that is not one of theirs is a 400."""
from __future__ import annotations

import re

import pytest

from app.payments.models import ClaimStatus, PayoutStatus


def _claim_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-claim="(\d+)"', html)]


def _options(html: str, name: str) -> set[str]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    return set(re.findall(r'<option[^>]*value="([^"]*)"', select)) - {""}


def test_a_partner_filters_its_claims_by_status_and_type_and_pages_through_them(payments, signed_in):
    drafts = [payments.claim(amount=1_000 + n, submit=False) for n in range(3)]
    submitted = payments.claim(amount=2_000)
    mdf = payments.claim(amount=3_000, type="mdf", submit=False)
    page = signed_in("admin")
    listed = page.get("/payments/claims?status=draft&type=rebate")
    assert listed.status_code == 200
    assert _claim_ids(listed.get_data(as_text=True)) == sorted(drafts, reverse=True)
    html = page.get("/payments/claims").get_data(as_text=True)
    assert {submitted, mdf, *drafts} <= set(_claim_ids(html))
    assert _options(html, "status") == {s.value for s in ClaimStatus}
    assert _options(html, "type") == {"rebate", "mdf"}
    # Another partner's claims are never listed, whatever the filter.
    assert not {submitted, mdf, *drafts} & set(_claim_ids(signed_in("contoso").get("/payments/claims")
                                                          .get_data(as_text=True)))


def test_the_claim_list_pages_fifty_at_a_time_and_keeps_the_filters(payments, signed_in, monkeypatch):
    from app.payments import list_views

    monkeypatch.setattr(list_views, "PAGE", 2)
    made = [payments.claim(amount=500 + n, submit=False) for n in range(5)]
    page = signed_in("programs")
    first = page.get("/payments/claims?status=draft").get_data(as_text=True)
    older = re.search(r'<a href="([^"]+)" rel="next">Older claims', first).group(1).replace("&amp;", "&")
    assert "status=draft" in older
    second = page.get(older).get_data(as_text=True)
    seen = _claim_ids(first) + _claim_ids(second)
    assert seen == sorted(made, reverse=True)[:4] and "Newest claims" in second


def test_the_programmes_team_lists_the_failed_payouts_to_retry(payments, sandbox, signed_in):
    paid_id = payments.claim(amount=4_000)
    failed_id = payments.claim(amount=5_000)
    for claim_id in (paid_id, failed_id):
        assert payments.approve(claim_id).status_code == 200
    failed = payments.payout_of(failed_id)
    payments.webhook("payout.failed", failed["reference"], "evt_list_failed", reason="Account closed.")
    page = signed_in("programs")
    html = page.get("/payments/payouts?status=failed").get_data(as_text=True)
    assert failed["reference"] in html and payments.payout_of(paid_id)["reference"] not in html
    assert _options(page.get("/payments/payouts").get_data(as_text=True), "status") == {s.value for s in PayoutStatus}
    programmes = page.get("/payments/programmes").get_data(as_text=True)
    assert 'href="/payments/payouts">Every payout, by status</a>' in programmes
    assert 'href="/payments/claims">Every claim, by status and type</a>' in programmes


@pytest.mark.parametrize("query", ["status=paidx", "type=bonus", "status=%20draft", "cursor=not-a-cursor",
                                   "cursor=" + "9" * 300])
def test_a_filter_or_page_link_the_list_does_not_offer_is_a_400(signed_in, query):
    page = signed_in("admin")
    for path in ("/payments/claims", "/payments/payouts"):
        if "type=" in query and path == "/payments/payouts":
            continue
        answer = page.get(f"{path}?{query}")
        assert answer.status_code == 400, (path, query)
        assert 'role="alert"' in answer.get_data(as_text=True)


def test_people_without_payments_cannot_list_claims_or_payouts(signed_in):
    for who in ("engineer", "customer", "gtac"):
        for path in ("/payments/claims", "/payments/payouts"):
            assert signed_in(who).get(path).status_code == 403, (who, path)


def test_a_payout_page_shows_the_bank_account_a_payment_sent_again_would_go_to(payments, sandbox, signed_in):
    claim_id = payments.claim(amount=6_000)
    assert payments.approve(claim_id).status_code == 200
    payout = payments.payout_of(claim_id)
    for who in ("programs", "admin"):
        html = signed_in(who).get(f"/payments/payouts/{payout['id']}").get_data(as_text=True)
        assert "Northwind Networks Ltd, <span class=\"mono\">GB33 **** 5555</span>" in html, who
        assert "GB33BUKB20201555555555" not in html


def test_earlier_statement_reconciliations_stay_readable(app, signed_in):
    import io

    page = signed_in("programs")
    token = re.search(r'name="stmt-csrf_token" type="hidden" value="([^"]+)"',
                      page.get("/payments/programmes").get_data(as_text=True)).group(1)
    header = "provider_payout_id,reference,amount,currency,status\n"
    for name, line in (("september.csv", ""), ("october.csv", "sbx_1,PO-UNKNOWN-1,100,USD,paid\n"),
                       ("november.csv", "")):
        answer = page.post("/payments/programmes/reconciliation", content_type="multipart/form-data", data={
            "stmt-csrf_token": token, "stmt-statement": (io.BytesIO((header + line).encode()), name)})
        assert answer.status_code in (200, 303), answer.status_code
    programmes = page.get("/payments/programmes").get_data(as_text=True)
    assert "november.csv: 0 of 0 line(s) matched" in programmes
    link = re.search(r'<a href="(/payments/programmes/reconciliation/\d+)">october.csv</a>', programmes).group(1)
    earlier = page.get(link).get_data(as_text=True)
    assert "october.csv: 0 of 1 line(s) matched, 1 exception(s)" in earlier and "PO-UNKNOWN-1" in earlier
    # From one statement to the one before, and back: every earlier one is reached, however many.
    before = re.search(r'<a href="([^"]+)" rel="next">Earlier statement', earlier).group(1)
    oldest = page.get(before).get_data(as_text=True)
    assert "Reconciliation of september.csv" in oldest and "Earlier statement" not in oldest
    assert re.search(r'<a href="([^"]+)">← Later statement', oldest).group(1) == link
    assert signed_in("admin").get(link).status_code == 403
    assert page.get("/payments/programmes/reconciliation/999999").status_code == 404
