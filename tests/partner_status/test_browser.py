"""In a real browser on a 390 px phone: a partner admin reads its Performance & Training Dashboard;
the programmes team filters every partner's status and applies a programme-wide change after its preview."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.clock import now
from tests.browser import accessibility_violations, overflow, sign_in

pytestmark = pytest.mark.browser


def usable(page) -> None:
    problems = accessibility_violations(page) + overflow(page)
    assert not problems, "\n".join(problems)


def test_a_partner_admin_reads_its_dashboard(phone):
    sign_in(phone, "admin")
    phone.get_by_role("link", name="Partner status").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Performance & training: Northwind Networks")
    expect(phone.get_by_role("heading", name="Level Select")).to_be_visible()
    requirements = phone.locator("section", has=phone.get_by_role("heading", name="Requirements of the level"))
    expect(requirements.get_by_role("row", name="CERT-EXOS")).to_contain_text("due")
    expect(requirements.get_by_role("row", name="SPEC-WIRELESS")).to_contain_text("waived until")
    expect(phone.locator("main")).to_contain_text("Nadia Engineer")
    expect(phone.locator("main")).to_contain_text("Growth Rebate")
    expect(phone.locator("main")).not_to_contain_text("Contoso")
    usable(phone)


def test_programs_filter_partners_then_extend_levels_after_a_preview(phone):
    through = (now().date() + timedelta(days=500)).isoformat()
    sign_in(phone, "programs")
    phone.get_by_role("link", name="Partner status").click()
    phone.get_by_label("Tier").select_option("PW")
    phone.get_by_role("button", name="Filter").click()
    listing = phone.locator("table")
    expect(listing).to_contain_text("Contoso Integrators")
    expect(listing).not_to_contain_text("Northwind Networks")
    expect(phone.get_by_role("link", name="Download as CSV")).to_have_attribute(
        "href", "/partner-status/partners.csv?tier=PW&region=&level_id=&unmet=")
    usable(phone)
    phone.get_by_role("link", name="Programme-wide changes").click()
    phone.get_by_label("Kind of change").select_option("extend_levels")
    phone.get_by_label("New date").fill(through)
    phone.get_by_role("button", name="Preview").click()
    preview = phone.locator("section", has=phone.get_by_role(
        "heading", name="Preview: Extend all levels through a date, 2 affected"))
    expect(preview).to_contain_text("Northwind Networks")
    expect(preview).to_contain_text("Contoso Integrators")
    usable(phone)
    phone.get_by_label("Reason").first.fill("Levelling postponed a year")
    phone.get_by_role("button", name="Apply to 2 partner(s)").click()
    expect(phone.get_by_text("Extend all levels through a date: applied to 2 partner(s).")).to_be_visible()
    expect(phone.locator("section", has=phone.get_by_role("heading", name="Applied changes"))).to_contain_text(
        "Levelling postponed a year")
    usable(phone)
