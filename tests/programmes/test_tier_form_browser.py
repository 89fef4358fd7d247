"""In a real browser on a 390 px phone: the programmes team creates a programme with its own tiers."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_usable, sign_in

pytestmark = pytest.mark.browser


def test_programmes_create_a_programme_with_their_own_tiers(phone, artifacts):
    sign_in(phone, "programs")
    phone.get_by_role("link", name="Programmes").click()
    phone.get_by_label("Name").fill("Partner Growth Tiers")
    phone.get_by_label("Baseline target per partner and quarter").fill("250000.00")
    second = phone.get_by_role("group", name="Tier 2")
    expect(second.get_by_label("From % of target")).to_have_value("80")
    second.get_by_label("Rebate rate %").fill("abc")
    phone.get_by_role("button", name="Create").click()
    expect(second.get_by_text("A percentage such as 80 or 92.5.")).to_be_visible()
    expect(second.get_by_label("Rebate rate %")).to_have_value("abc")
    assert_usable(phone, "the new-programme form refusing a rate")
    for name, start, rate in (("Tier 2", "92.5", "2.25"), ("Tier 3", "110", "5"), ("Tier 4", "", "")):
        tier = phone.get_by_role("group", name=name)
        tier.get_by_label("From % of target").fill(start)
        tier.get_by_label("Rebate rate %").fill(rate)
    phone.screenshot(path=str(artifacts / "programme-tiers-form.png"), full_page=True)
    phone.get_by_role("button", name="Create").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Partner Growth Tiers")
    terms = phone.get_by_role("region", name="Terms").locator("tbody tr")
    expect(terms).to_have_text([re.compile(rf"^{re.escape(start)} %\s+{re.escape(rate)} %$") for start, rate in (
        ("0.00", "0.00"), ("92.50", "2.25"), ("110.00", "5.00"))])
    phone.goto("/programmes")
    assert_usable(phone, "the new-programme form")
