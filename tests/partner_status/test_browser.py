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


def test_programs_define_a_level_set_a_partners_level_and_record_a_training(phone):
    deadline = (now().date() + timedelta(days=90)).isoformat()
    through, review = ((now().date() + timedelta(days=n)).isoformat() for n in (365, 180))
    done = (now().date() - timedelta(days=3)).isoformat()
    sign_in(phone, "programs")
    phone.get_by_role("link", name="Partner status").click()
    phone.get_by_role("link", name="Partner levels").click()
    expect(phone.get_by_role("heading", name="2. Select")).to_be_visible()
    usable(phone)
    phone.get_by_label("Level name").fill("Gold")
    phone.get_by_label("Rank (1 is the lowest)").fill("4")
    first = phone.get_by_role("group", name="Requirement 1")
    first.get_by_label("Code").fill("TRN-GOLD")
    first.get_by_label("Kind").select_option("training")
    first.get_by_label("Product family, course or specialisation").fill("Gold Onboarding")
    first.get_by_label("At least").fill("1")
    first.get_by_label("Deadline").fill(deadline)
    phone.get_by_role("button", name="Define the level").click()
    expect(phone.get_by_text("Level Gold defined with 1 requirement(s).")).to_be_visible()
    expect(phone.get_by_role("table", name="4. Gold")).to_contain_text("Engineers who completed a course: Gold Onboarding")
    usable(phone)

    phone.get_by_role("link", name="Back to partner status").click()
    phone.get_by_role("link", name="Northwind Networks").click()
    phone.get_by_label("Level", exact=True).select_option(label="Gold")
    phone.get_by_label("Level held through").fill(through)
    phone.get_by_label("Next levelling review").fill(review)
    phone.get_by_role("button", name="Set the level").click()
    expect(phone.get_by_text("Level set.")).to_be_visible()
    expect(phone.get_by_role("heading", name="Level Gold")).to_be_visible()
    requirements = phone.locator("section", has=phone.get_by_role("heading", name="Requirements of the level"))
    expect(requirements.get_by_role("row", name="TRN-GOLD")).to_contain_text("due")
    usable(phone)

    phone.get_by_label("Engineer", exact=True).select_option(label="Nadia Engineer (engineer@northwind.example)")
    phone.get_by_label("Course").fill("Gold Onboarding")
    phone.get_by_label("Completed on").fill(done)
    phone.get_by_role("button", name="Record the training").click()
    expect(phone.get_by_text("Training recorded.")).to_be_visible()
    expect(requirements.get_by_role("row", name="TRN-GOLD")).to_contain_text("met")
    usable(phone)


def test_a_refused_setup_form_says_why_on_the_phone(phone):
    sign_in(phone, "programs")
    phone.get_by_role("link", name="Partner status").click()
    phone.get_by_role("link", name="Northwind Networks").click()
    phone.get_by_label("Level held through").fill((now().date() + timedelta(days=30)).isoformat())
    phone.get_by_label("Next levelling review").fill((now().date() + timedelta(days=60)).isoformat())
    phone.get_by_role("button", name="Set the level").click()
    expect(phone.get_by_text("The levelling review comes on or before the last day the level is held.")).to_be_visible()
    expect(phone.get_by_label("Next levelling review")).to_have_attribute("aria-invalid", "true")
    usable(phone)
