"""The integrations page in a real browser, per role: the programmes team and the vendor admin
register a claims platform (its secret shown once), suspend and reactivate it; nobody else has it.
And the partner's payments page with its remittance advice section."""
from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import expect

from app.payments import signing
from tests.browser import assert_usable
from tests.integrations.conftest import claim
from tests.payments.conftest import wait_until

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("who", ["programs", "vendor_admin"])
def test_a_claims_platform_is_registered_suspended_and_reactivated_from_the_page(page, sign_in, app, monkeypatch,
                                                                                who, live_server):
    sign_in(page, who)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrations")
    # A private callback address is refused with the reason, and what was typed stays.
    page.get_by_label("Name").fill("Programme platform")
    page.get_by_label("Callback URL").fill("http://127.0.0.1:9/callbacks")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Register integration").click()
    assert answer.value.status == 422
    expect(page.get_by_label("Callback URL")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("Programme platform")
    assert_usable(page, "the integrations page with a refused URL")

    monkeypatch.setitem(app.config, "SR_WEBHOOK_ALLOW_PRIVATE", True)  # no public host in a test
    page.get_by_label("Callback URL").fill("https://programmes.vendor.example/gtac")
    page.get_by_role("button", name="Register integration").click()
    expect(page.get_by_role("region", name="Integration registered")).to_be_visible()
    secret = page.get_by_label("Signing secret").input_value()
    assert len(secret) >= 32
    platform = page.get_by_role("article", name="Programme platform")
    expect(platform).to_contain_text("active")
    expect(platform).to_contain_text("No callbacks yet.")
    assert_usable(page, "the integrations page")
    integration_id = re.search(r"Integration id (\d+)", platform.inner_text()).group(1)

    platform.get_by_role("button", name="Suspend Programme platform").click()
    expect(page.get_by_role("status")).to_contain_text("suspended")
    expect(page.get_by_label("Signing secret")).to_have_count(0)  # shown once only
    # Suspended, the platform's signed push is refused.
    raw = json.dumps(claim("CLM-PAGE-1", 2)).encode()
    refused = requests.post(f"{live_server}/api/v1/integrations/claims", data=raw, timeout=5, headers={
        "Content-Type": "application/json", "X-GTAC-Integration": integration_id,
        "X-GTAC-Signature": signing.sign(secret, raw)})
    assert refused.status_code == 403
    page.get_by_role("article", name="Programme platform").get_by_role(
        "button", name="Reactivate Programme platform").click()
    expect(page.get_by_role("article", name="Programme platform")).to_contain_text("active")


@pytest.mark.parametrize("who", ["admin", "engineer", "gtac", "customer"])
def test_only_the_vendor_admin_and_programmes_have_the_integrations_page(page, sign_in, who):
    sign_in(page, who)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations")).to_have_count(0)
    assert page.goto("/integrations").status == 403


def test_the_partner_sees_which_claims_each_payment_paid(page, sign_in, platform, sandbox, partners):
    sandbox.faults(settle_after=0.2)
    pushed = platform.push(claim("CLM-PAGE-2", partners["northwind"], amount=31_400)).json()
    sign_in(page, "admin")

    def shown():
        page.goto("/payments/partner")
        return page.get_by_role("table", name=re.compile(pushed["payout_reference"])).count() == 1

    wait_until(shown, timeout=20, interval=0.5, what="the paid payment on the partner's page")
    advice = page.get_by_role("table", name=re.compile(pushed["payout_reference"]))
    expect(advice).to_contain_text("CLM-PAGE-2")
    expect(advice).to_contain_text(f"Claim {pushed['claim_id']}")
    expect(advice).to_contain_text("314.00 USD")
    assert_usable(page, "the partner's payments page with remittance advice")
