"""The vendor admin's contract and import pages in a real browser: a contract entered by hand, and a
file of contracts previewed, then applied, then sent again to no effect."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.demo.seed import DEMO_PASSWORD
from tests.browser import assert_usable

pytestmark = pytest.mark.browser
EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "imports" / "examples"


def sign_in_as_vendor_admin(page):
    page.goto("/login")
    page.get_by_label("E-mail").fill("vendor-admin@vendor.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_vendor_admin_enters_a_contract_and_its_serials(page):
    sign_in_as_vendor_admin(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contracts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Service contracts")
    expect(page.get_by_role("link", name="PWP-ACME-2026")).to_be_visible()
    assert_usable(page, "the contracts page")

    form = page.get_by_role("region", name="New contract")
    form.get_by_label("Contract number").fill("PW-GLOBEX-2027")
    form.get_by_label("Level").select_option("PW")
    form.get_by_label("Customer").select_option(label="Acme Corp")
    form.get_by_label("Starts on").fill("2027-01-01")
    form.get_by_label("Ends on").fill("2027-12-31")
    form.get_by_role("button", name="Create contract").click()
    expect(page.get_by_role("status")).to_contain_text("Contract PW-GLOBEX-2027 created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contract PW-GLOBEX-2027")

    serials = page.get_by_role("region", name=re.compile("Covered serial numbers"))
    serials.get_by_label("Serial number").fill("GLX-9001")
    serials.get_by_label("Product model").fill("X465-48T")
    serials.get_by_role("button", name="Add serial").click()
    expect(page.get_by_role("status")).to_contain_text("Serial GLX-9001 added.")
    expect(page.get_by_role("cell", name="GLX-9001", exact=True)).to_be_visible()

    # Fabrikam's serial, in force on the same days: refused with the reason, nothing added.
    serials = page.get_by_role("region", name=re.compile("Covered serial numbers"))
    serials.get_by_label("Serial number").fill("FAB-0001")
    serials.get_by_label("Product model").fill("VSP4900-48P")
    serials.get_by_role("button", name="Add serial").click()
    expect(page.get_by_role("alert")).to_contain_text("already on contract PW-FAB-2026 of another customer")
    expect(page.get_by_role("cell", name="FAB-0001", exact=True)).to_have_count(0)
    assert_usable(page, "a contract refusing a serial")

    page.get_by_role("button", name="Remove serial GLX-9001").click()
    expect(page.get_by_role("status")).to_contain_text("Serial GLX-9001 removed")
    expect(page.get_by_text("No serial numbers yet.")).to_be_visible()

    terms = page.get_by_role("region", name="Terms")
    terms.get_by_label("Ends on").fill("2026-01-01")
    terms.get_by_role("button", name="Save contract").click()
    expect(page.get_by_role("alert")).to_contain_text("ends (2026-01-01) before it starts (2027-01-01)")


def test_vendor_admin_previews_then_applies_a_contracts_file(page, tmp_path):
    sign_in_as_vendor_admin(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")
    assert_usable(page, "the imports page")

    contracts = page.get_by_role("region", name="Contracts")
    contracts.get_by_label("Contracts file (CSV)").set_input_files(str(EXAMPLES / "contracts.csv"))
    contracts.get_by_role("button", name="Preview contracts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import of contracts.csv")
    expect(page.get_by_role("heading", name="What applying it will change")).to_be_visible()
    counts = page.locator("#counts")
    expect(counts.get_by_role("cell").nth(0)).to_have_text("3")  # added
    expect(counts.get_by_role("cell").nth(2)).to_have_text("1")  # unchanged
    assert_usable(page, "an import's preview")

    page.get_by_role("button", name="Apply: 3 added, 0 changed").click()
    expect(page.get_by_role("heading", name="Applied")).to_be_visible()
    expect(counts.get_by_role("cell").nth(0)).to_have_text("3")
    assert_usable(page, "an applied import")

    # The same file again: nothing left to change.
    page.get_by_role("link", name="All imports").click()
    contracts = page.get_by_role("region", name="Contracts")
    contracts.get_by_label("Contracts file (CSV)").set_input_files(str(EXAMPLES / "contracts.csv"))
    contracts.get_by_role("button", name="Preview contracts").click()
    expect(page.get_by_role("status")).to_contain_text("Nothing to change")
    expect(page.get_by_role("button", name=re.compile("^Apply"))).to_have_count(0)

    bad = tmp_path / "erp.csv"
    bad.write_text((EXAMPLES / "contracts.csv").read_text().replace("X695-48Y", "X9999"))
    page.get_by_role("link", name="All imports").click()
    contracts = page.get_by_role("region", name="Contracts")
    contracts.get_by_label("Contracts file (CSV)").set_input_files(str(bad))
    contracts.get_by_role("button", name="Preview contracts").click()
    expect(page.get_by_role("region", name="Bad lines (1)")).to_contain_text("erp.csv:3: unknown product model 'X9999'")
    expect(page.get_by_role("alert")).to_contain_text("cannot be applied as it is")
    assert_usable(page, "an import with a bad line")
