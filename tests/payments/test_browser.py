"""In a real browser: a programmes user approves a claim and watches it get paid."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser import sign_in

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
