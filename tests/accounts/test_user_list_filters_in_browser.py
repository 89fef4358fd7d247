"""The vendor's admin narrows the users list to one role in the browser."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import assert_usable, sign_in

pytestmark = pytest.mark.browser


def test_the_vendor_admin_lists_only_the_customers(page):
    sign_in(page, "vendor_admin")
    page.goto("/users")
    rows = page.locator("table.cases tbody tr")
    expect(rows.filter(has_text="Grace GTAC")).to_have_count(1)
    page.get_by_label("Role").select_option(label="customer")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_label("Role")).to_have_value("customer")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Alex Acme")).to_have_count(1)
    expect(rows.filter(has_text="Fiona Fabrikam")).to_have_count(1)
    expect(page.get_by_role("link", name="Clear filters")).to_be_visible()
    assert_usable(page, "the users list filtered by role")

    page.goto("/users?role=wizard")
    expect(page.get_by_role("alert")).to_contain_text("The role filter is not one of the choices")
    expect(page.get_by_label("Role")).to_have_attribute("aria-invalid", "true")
    assert_usable(page, "the users list with a role that is not a choice")
