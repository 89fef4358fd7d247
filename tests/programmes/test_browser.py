"""In a real browser on a 390 px phone: programmes lowers targets with a preview; a partner reads its portal."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.programmes.demo import quarter_of
from app.clock import now
from tests.browser import accessibility_violations, overflow, sign_in

pytestmark = pytest.mark.browser


def usable(page) -> None:
    problems = accessibility_violations(page) + overflow(page)
    assert not problems, "\n".join(problems)


def test_programmes_preview_an_alleviation_then_apply_it(phone):
    _label, start, end = quarter_of(now().date())
    sign_in(phone, "programs")
    phone.get_by_role("link", name="Programmes").click()
    phone.get_by_role("link", name="Growth Rebate").click()
    phone.get_by_role("link", name="Lower targets (alleviation)").click()
    phone.get_by_label("From").fill(end.isoformat())
    phone.get_by_label("Lower targets by (%)").fill("20")
    phone.get_by_label("Partner tier").select_option("PW")
    phone.get_by_role("button", name="Preview").click()
    preview = phone.locator("table")
    expect(preview).to_contain_text("Contoso Integrators")
    expect(preview).not_to_contain_text("Northwind Networks")
    usable(phone)
    phone.get_by_label("Reason the partners read").fill("Quarter-end shortage of VOSS switches")
    phone.get_by_role("button", name="Apply to 1 partner(s)").click()
    expect(phone.get_by_text("Targets lowered for 1 partner(s)")).to_be_visible()
    usable(phone)


def test_a_partner_reads_its_rebate_portal_with_the_chart_and_its_figures(phone):
    sign_in(phone, "engineer")
    phone.get_by_role("link", name="Rebates").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Rebates: Northwind Networks")
    chart = phone.get_by_role("img", name="Sales against target")
    expect(chart).to_be_visible()
    expect(phone.locator("table")).to_contain_text("336,750.50 USD")  # the demo's three Northwind bookings
    expect(phone.locator("main")).not_to_contain_text("Contoso")
    usable(phone)
