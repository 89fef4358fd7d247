"""In a real browser: a programmes user approves a claim and watches it get paid."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.conftest import DEMO_EMAILS, launched_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    with launched_chromium() as browser:
        yield browser


def sign_in(page, who: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(DEMO_EMAILS[who])
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()


def test_programmes_approve_a_claim_and_it_reaches_paid(chromium, live_server, sandbox, payments, demo):
    sandbox.faults(settle_after=0.5)
    claim_id = payments.claim(amount=42_000)
    context = chromium.new_context(base_url=live_server)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
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
    finally:
        context.close()
