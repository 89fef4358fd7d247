"""In a real browser: a programmes user approves a claim and watches it get paid."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser import assert_usable, sign_in

pytestmark = pytest.mark.browser


def test_programmes_approve_a_claim_and_it_reaches_paid(page, sandbox, payments):
    sandbox.faults(settle_after=0.5)
    claim_id = payments.claim(amount=42_000)
    page.set_default_timeout(15_000)
    sign_in(page, "programs")
    page.goto("/payments/programmes")
    chart = page.locator("svg.pipeline")
    page.get_by_role("button", name=f"Approve claim {claim_id}").click()
    page.get_by_text(f"Claim {claim_id} approved.").wait_for()
    # Back on the programmes page, the chart draws the new payout at whatever stage it has reached.
    expect(chart).to_be_visible()
    expect(chart).to_contain_text(re.compile(r"(pending|in transit|paid) \(1\)"))
    page.goto(f"/payments/claims/{claim_id}")
    deadline = time.monotonic() + 20
    # innerText follows the CSS capitalisation of status badges: compare case-insensitively.
    while page.locator("#payout-status").inner_text().strip().lower() != "paid":
        assert time.monotonic() < deadline, "the claim did not reach paid in the browser"
        time.sleep(0.3)
        page.reload()
    assert page.locator("h1").inner_text().strip().lower().endswith("paid")
    page.goto("/payments/programmes")
    expect(chart).to_be_visible()
    expect(chart).to_contain_text("paid (1)")


def test_the_programmes_teams_journey_on_a_phone(phone, sandbox, payments):
    """The programmes team's journey of tests/web/test_role_journeys.py: every page it visits passes
    axe-core at 390 px and fits the phone."""
    sandbox.faults(settle_after=0.5)
    claim_id = payments.claim(amount=64_000)
    page = sign_in(phone, "programs")
    page.goto("/payments/programmes")
    page.wait_for_load_state()
    assert_usable(page, "the programmes page")
    page.get_by_role("button", name=f"Approve claim {claim_id}").click()
    expect(page.get_by_role("status").filter(has_text="approved").first).to_contain_text(
        f"Claim {claim_id} approved.")
    assert_usable(page, "the programmes page after an approval")
    page.goto(f"/payments/claims/{claim_id}")
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Claim {claim_id}")
    assert_usable(page, "an approved claim")


def test_a_partner_admin_lowers_a_draft_over_its_allocation_on_a_phone_and_submits_it(phone, payments):
    claim_id = payments.claim(type="mdf", amount=5_000_001, proof=True, submit=False)
    page = phone
    sign_in(page, "admin")
    page.goto(f"/payments/claims/{claim_id}")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("alert").first).to_contain_text("allocation")
    draft = page.get_by_role("region", name="Change the draft")
    expect(draft.get_by_label("Amount")).to_have_value("50000.01")
    assert_usable(page, "a draft claim refused at submission")
    draft.get_by_label("Amount").fill("50,000.00")
    draft.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text("Claim submitted.")).to_be_visible()
    expect(page.get_by_role("region", name="Change the draft")).to_have_count(0)
