"""In a real browser, as the vendor admin: set up a partner and a customer, suspend the partner and
see its engineer refused at sign-in, reinstate it; add a model; extend certifications. Every page
passes axe-core and fits a 390 px phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import assert_usable, sign_in

pytestmark = pytest.mark.browser


def test_the_vendor_admin_sets_up_a_partner_and_suspends_it(page, browser, live_server):
    sign_in(page, "vendor_admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Setting up the programme")
    assert_usable(page, "the administration overview")

    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Partners").click()
    page.get_by_label("Name").fill("Tailspin Networks")
    page.get_by_label("Tier").select_option("PWP")
    page.get_by_label("Region").select_option("APAC")
    page.get_by_role("button", name="Add partner").click()
    expect(page.get_by_text("Partner Tailspin Networks added.")).to_be_visible()
    assert_usable(page, "a partner's page")

    page.get_by_role("link", name="Add a customer of Tailspin Networks").click()
    page.get_by_label("Name").fill("Initech")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_text("Customer Initech added, served by Tailspin Networks.")).to_be_visible()
    assert_usable(page, "a customer's page")

    # A refusal is explained on the form.
    page.goto("/admin/partners")
    page.get_by_label("Name").fill("northwind networks")
    page.get_by_role("button", name="Add partner").click()
    expect(page.get_by_role("alert")).to_contain_text("An organisation is already named Northwind Networks")
    assert_usable(page, "the partners page with a refusal")

    page.get_by_role("link", name="Northwind Networks").click()
    page.get_by_role("button", name="Suspend Northwind Networks").click()
    expect(page.get_by_text("Northwind Networks is suspended: its users")).to_be_visible()
    assert_usable(page, "a suspended partner's page")

    with _another_browser(browser, live_server) as engineer:
        sign_in(engineer, "engineer")
        expect(engineer.get_by_role("alert")).to_contain_text("Northwind Networks is suspended by the vendor")

    page.get_by_role("button", name="Reinstate Northwind Networks").click()
    expect(page.get_by_text("Northwind Networks is reinstated")).to_be_visible()
    with _another_browser(browser, live_server) as engineer:
        sign_in(engineer, "engineer")
        expect(engineer.get_by_role("link", name="Cases", exact=True)).to_be_visible()


def test_the_vendor_admin_adds_a_model_and_extends_certifications(page):
    sign_in(page, "vendor_admin")
    page.goto("/admin/products")
    page.get_by_label("Product family", exact=True).fill("exos")
    page.get_by_label("Model", exact=True).fill("X590-24x")
    page.get_by_label("Name", exact=True).fill("ExtremeSwitching X590")
    page.get_by_role("button", name="Add model").click()
    expect(page.get_by_text("EXOS X590-24x (ExtremeSwitching X590) added.")).to_be_visible()
    assert_usable(page, "the products page")

    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Certifications").click()
    page.get_by_label("Partner").select_option(label="Contoso Integrators")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#certifications tbody tr")).to_have_count(2)
    expect(page.locator("#certifications")).to_contain_text("expired")
    page.get_by_label("Days to add").fill("60")
    page.locator("#extend").get_by_label("Product family").select_option("VOSS")
    page.get_by_role("button", name="Extend certifications").click()
    expect(page.get_by_text("2 VOSS certification(s) extended by 60 day(s).")).to_be_visible()
    expect(page.locator("#certifications .bad")).to_have_count(0)
    assert_usable(page, "the certifications page")


class _another_browser:
    """A second person at another browser (no shared cookies)."""

    def __init__(self, browser, base_url):
        self.context = browser.new_context(base_url=base_url)

    def __enter__(self):
        self.context.set_default_timeout(10_000)
        return self.context.new_page()

    def __exit__(self, *exc):
        self.context.close()
        return False
