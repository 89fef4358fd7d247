"""Approving several claims at once from the programmes page: ticked claims, one button, all or none."""
from __future__ import annotations

import re
import time

import pytest

from app.payments.models import Payout
from app.payments.schemas import MAX_BULK_APPROVALS
from tests.browser import assert_usable, sign_in
from tests.payments.conftest import count

PAGE = "/payments/programmes"
ACTION = "/payments/claims/approvals"


@pytest.fixture
def one_approver(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)


def csrf_token(client, page=PAGE) -> str:
    """The CSRF token a page puts in its forms for this client's session, as a browser would read it."""
    html = client.get(page).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def approve_selected(client, claim_ids, token=None):
    """Post the "Approve selected" form as the page does, and follow the redirect back to the page."""
    data = {"csrf_token": token or csrf_token(client), "claim_id": [str(c) for c in claim_ids]}
    return client.post(ACTION, data=data, follow_redirects=True)


def flashes(answer) -> list[str]:
    return [re.sub(r"\s+", " ", m) for m in
            re.findall(r'<p class="flash[^"]*" role="[a-z]+">(.*?)</p>', answer.get_data(as_text=True), re.S)]


def test_the_page_offers_a_labelled_checkbox_per_waiting_claim_and_the_form_to_approve_them(
        payments, signed_in):
    first, second = payments.claim(amount=10_000), payments.claim(amount=20_000)
    html = signed_in("programs").get(PAGE).get_data(as_text=True)
    for claim_id in (first, second):
        assert re.search(rf'<input type="checkbox" name="claim_id" value="{claim_id}" id="bulk-approve-{claim_id}"'
                         r'\s+form="bulk-approve">', html)
        assert f'<label for="bulk-approve-{claim_id}" class="visually-hidden">Select claim {claim_id}</label>' in html
    assert '<label for="bulk-approve-all" class="visually-hidden">Select all claims</label>' in html
    assert re.search(r'<form id="bulk-approve" method="post" action="/payments/claims/approvals">', html)
    assert ">Approve selected</button>" in html


def test_with_no_claim_waiting_there_is_nothing_to_select(payments, signed_in):
    waiting = payments.client.get("/api/v1/claims", query_string={"status": "submitted"},
                                  headers=payments.tokens["programs"]).json["items"]
    assert waiting  # the demo's claim: decide it so that none waits
    for claim in waiting:
        assert payments.client.post(f"/api/v1/claims/{claim['id']}/reject", json={"reason": "Not this quarter."},
                                    headers=payments.tokens["programs"]).status_code == 200
    html = signed_in("programs").get(PAGE).get_data(as_text=True)
    assert "No claims." in html
    assert 'type="checkbox"' not in html and "Approve selected" not in html


def test_approving_two_selected_claims_starts_both_payouts(payments, sandbox, signed_in, one_approver):
    first, second, left = (payments.claim(amount=10_000), payments.claim(amount=20_000),
                           payments.claim(amount=30_000))
    answer = approve_selected(signed_in("programs"), [first, second])
    assert answer.status_code == 200 and answer.request.path == PAGE
    assert flashes(answer) == ["Approved 2 claims; their payouts have started."]
    for claim_id, amount in ((first, 10_000), (second, 20_000)):
        assert payments.get_claim(claim_id)["status"] == "payout_pending"
        payout = payments.payout_of(claim_id)
        assert payout["amount"] == amount and payout["status"] == "in_transit"
        assert len(sandbox.payouts_for(payout["reference"])) == 1
    assert payments.get_claim(left)["status"] == "submitted"
    assert payments.payout_of(left) is None
    html = answer.get_data(as_text=True)  # the page now offers only the claim still waiting
    assert f'name="claim_id" value="{left}"' in html
    assert f'name="claim_id" value="{first}"' not in html and f'name="claim_id" value="{second}"' not in html


def test_one_selected_claim_reads_in_the_singular(payments, sandbox, signed_in, one_approver):
    claim_id = payments.claim(amount=10_000)
    assert flashes(approve_selected(signed_in("programs"), [claim_id])) == [
        "Approved 1 claim; its payout has started."]


def test_large_claims_get_their_first_approval_and_the_page_says_they_wait_for_a_second(
        payments, sandbox, signed_in, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 50_000)
    small, large = payments.claim(amount=10_000), payments.claim(amount=60_000)
    answer = approve_selected(signed_in("programs"), [small, large])
    assert flashes(answer) == [f"Approved 1 claim; its payout has started. First approval recorded for 1 claim "
                               f"({large}); it needs a second approver."]
    assert payments.get_claim(large)["status"] == "submitted" and payments.payout_of(large) is None
    html = answer.get_data(as_text=True)
    assert "(1 of 2 approvals)" in html
    # The first approver is no longer offered an approval the service would refuse them.
    assert f'aria-label="Approve claim {large}"' not in html and "You approved it first" in html
    assert f'name="claim_id" value="{large}"' not in html  # nor is it among those "Select all" ticks
    claim_page = signed_in("programs").get(f"/payments/claims/{large}").get_data(as_text=True)
    assert "the second must come from another approver" in claim_page
    assert ">Approve</button>" not in claim_page and ">Reject</button>" in claim_page


@pytest.mark.parametrize("selection, message", [
    ([], "Select at least one claim to approve."),
    (["abc"], "\u201cabc\u201d is not a claim number; nothing was approved."),
    (["{claim}", "12x"], "\u201c12x\u201d is not a claim number; nothing was approved."),
    (["{claim}", "-3"], "\u201c-3\u201d is not a claim number; nothing was approved."),
    (["{claim}", "0"], "\u201c0\u201d is not a claim number; nothing was approved."),
    (["{claim}", str(2**40)], f"\u201c{2**40}\u201d is not a claim number; nothing was approved."),
])
def test_an_empty_or_garbled_selection_changes_nothing_and_says_why(payments, sandbox, signed_in, app,
                                                                     one_approver, selection, message):
    claim_id = payments.claim(amount=10_000)
    payouts_before = count(app, Payout)
    answer = approve_selected(signed_in("programs"), [s.format(claim=claim_id) for s in selection])
    assert answer.status_code == 200 and answer.request.path == PAGE
    assert flashes(answer) == [message]
    assert payments.get_claim(claim_id)["status"] == "submitted"
    assert count(app, Payout) == payouts_before


def test_more_than_the_limit_changes_nothing(payments, sandbox, signed_in, app, one_approver):
    claim_id = payments.claim(amount=10_000)
    selection = [claim_id, *range(claim_id + 1, claim_id + MAX_BULK_APPROVALS + 1)]
    answer = approve_selected(signed_in("programs"), selection)
    assert flashes(answer) == [f"At most {MAX_BULK_APPROVALS} claims can be approved at once; "
                               f"{MAX_BULK_APPROVALS + 1} were selected. Nothing was approved."]
    assert payments.get_claim(claim_id)["status"] == "submitted"
    assert count(app, Payout) == 0


def test_a_claim_ticked_twice_is_approved_once(payments, sandbox, signed_in, app, one_approver):
    claim_id = payments.claim(amount=10_000)
    answer = approve_selected(signed_in("programs"), [claim_id, claim_id])
    assert flashes(answer) == ["Approved 1 claim; its payout has started."]
    assert count(app, Payout, Payout.claim_id == claim_id) == 1


def test_an_already_approved_claim_in_the_selection_approves_none_and_is_named(
        payments, sandbox, signed_in, app, one_approver):
    fine = payments.claim(amount=10_000)
    already = payments.claim(amount=20_000)
    client = signed_in("programs")
    token = csrf_token(client)  # the page as loaded before someone else approved one of its claims
    assert payments.approve(already).status_code == 200
    payouts_before = count(app, Payout)

    answer = approve_selected(client, [fine, already], token=token)

    assert flashes(answer) == [f"Nothing was approved: 1 of the 2 selected claims cannot be. "
                               f"Claim {already} is payout_pending; it cannot be approved."]
    assert 'role="alert"' in answer.get_data(as_text=True)
    assert payments.get_claim(fine)["status"] == "submitted"
    assert payments.payout_of(fine) is None
    assert count(app, Payout) == payouts_before


def test_every_refused_claim_is_listed_with_its_reason(payments, sandbox, signed_in, one_approver):
    fine, draft = payments.claim(amount=10_000), payments.claim(amount=20_000, submit=False)
    missing = draft + 1000
    answer = approve_selected(signed_in("programs"), [fine, draft, missing])
    assert flashes(answer) == [f"Nothing was approved: 2 of the 3 selected claims cannot be. "
                               f"Claim {draft} is draft; it cannot be approved. Claim {missing} not found."]
    assert payments.get_claim(fine)["status"] == "submitted"


def test_a_partner_admin_cannot_approve_claims_this_way(payments, sandbox, signed_in, app, one_approver):
    claim_id = payments.claim(amount=10_000)
    partner = signed_in("admin")
    answer = partner.post(ACTION, data={"csrf_token": csrf_token(partner, "/payments/partner"),
                                        "claim_id": [str(claim_id)]})
    assert answer.status_code == 403
    assert payments.get_claim(claim_id)["status"] == "submitted"
    assert count(app, Payout) == 0


def test_a_post_without_the_pages_token_is_refused(payments, signed_in, app, one_approver):
    claim_id = payments.claim(amount=10_000)
    answer = signed_in("programs").post(ACTION, data={"claim_id": [str(claim_id)]})
    assert answer.status_code == 400
    assert payments.get_claim(claim_id)["status"] == "submitted"


@pytest.mark.browser
def test_programmes_tick_two_claims_approve_them_and_both_reach_paid(page, sandbox, payments):
    sandbox.faults(settle_after=0.5)
    first, second, left = (payments.claim(amount=11_000), payments.claim(amount=12_000),
                           payments.claim(amount=13_000))
    page.set_default_timeout(15_000)
    sign_in(page, "programs")
    page.goto(PAGE)
    select_all = page.get_by_label("Select all claims")
    boxes = page.locator('input[type="checkbox"][name="claim_id"]')
    assert boxes.count() >= 3
    select_all.check()
    assert all(boxes.nth(n).is_checked() for n in range(boxes.count()))
    select_all.uncheck()
    assert not any(boxes.nth(n).is_checked() for n in range(boxes.count()))
    page.get_by_label(f"Select claim {first}", exact=True).check()
    assert select_all.evaluate("box => box.indeterminate")
    page.get_by_label(f"Select claim {second}", exact=True).check()
    page.get_by_role("button", name="Approve selected").click()
    page.get_by_text("Approved 2 claims; their payouts have started.").wait_for()
    for claim_id in (first, second):
        page.goto(f"/payments/claims/{claim_id}")
        deadline = time.monotonic() + 20
        # innerText follows the CSS capitalisation of status badges: compare case-insensitively.
        while page.locator("#payout-status").inner_text().strip().lower() != "paid":
            assert time.monotonic() < deadline, f"claim {claim_id} did not reach paid in the browser"
            time.sleep(0.3)
            page.reload()
    page.goto(f"/payments/claims/{left}")
    assert page.locator("h1").inner_text().strip().lower().endswith("submitted")
    assert payments.get_claim(left)["status"] == "submitted" and payments.payout_of(left) is None
    page.goto(PAGE)
    assert page.get_by_label(f"Select claim {left}", exact=True).is_visible()
    assert page.get_by_label(f"Select claim {first}", exact=True).count() == 0


@pytest.mark.browser
def test_the_claims_table_passes_axe_before_its_script_shows_select_all(page, payments):
    """Until select_all.js runs (slow network, or not at all) the select-all box is hidden; its column
    must still have a header a screen reader can name."""
    payments.claim(amount=14_000)
    sign_in(page, "programs")
    page.route("**/select_all.js", lambda route: route.abort())
    page.goto(PAGE)
    assert page.locator('input[type="checkbox"][name="claim_id"]').count() >= 1
    assert not page.get_by_label("Select all claims").is_visible()
    assert_usable(page, "the programmes page without select_all.js")
