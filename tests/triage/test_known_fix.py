"""In a real browser: the engineer rules a suggestion 'matches', resolves with the upgrade instead of
escalating, the customer sees the advice; then the engineer reopens the case when the fix did not help."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser import open_page

pytestmark = pytest.mark.browser

MULTICAST = {"serial_number": "ACME-0002", "software_version": "32.6.1.4", "severity": "S2",
             "title": "Stack unit restarts when many multicast groups join",
             "description": "Slot 3 of the X465 stack reloads daily when IGMP snooping has thousands of groups."}


def test_engineer_resolves_with_the_known_fix_and_reopens(client, tokens, page, sign_in, browser, live_server):
    case_id = client.post("/api/v1/cases", json=MULTICAST, headers=tokens["engineer"]).json["id"]
    sign_in(page, "engineer")
    page.goto(f"/cases/{case_id}")
    # Nothing ruled yet: no advice panel.
    expect(page.locator("#resolution")).to_have_count(0)

    notes = page.locator("#item-release_notes_reviewed")
    notes.get_by_role("group", name=re.compile("^EXOS-31207")).get_by_label("Matches this case").check()
    others = notes.get_by_role("group").filter(has_not_text="EXOS-31207")
    for index in range(others.count()):
        others.nth(index).get_by_label("Not relevant").check()
    notes.get_by_role("button", name="Save").click()

    panel = page.locator("#resolution")
    expect(panel.locator("#advice-EXOS-31207")).to_contain_text("Upgrade to 32.6.2.1 or later, which fixes EXOS-31207.")
    panel.get_by_label("Note to the customer").fill("Schedule it for Saturday's window.")
    panel.get_by_role("button", name="Resolve with this upgrade").click()

    expect(page.locator(".flash-info")).to_contain_text("Case resolved")
    expect(page.locator(".details")).to_contain_text("Statusresolved")
    expect(panel).to_contain_text("upgrade to 32.6.2.1 for EXOS-31207")
    expect(page.get_by_role("button", name="Escalate to GTAC")).to_have_count(0)

    with open_page(browser, live_server) as customer:
        sign_in(customer, "customer")
        customer.goto(f"/cases/{case_id}")
        expect(customer.locator(".details")).to_contain_text("Statusresolved")
        expect(customer.locator("#thread-customer")).to_contain_text("Resolved: upgrade to 32.6.2.1 or later.")
        expect(customer.locator("#thread-customer")).to_contain_text("Schedule it for Saturday's window.")
        expect(customer.locator("#resolution")).to_have_count(0)

    # An empty reason is refused on the page; a reason reopens the case.
    panel.get_by_label(re.compile("The fix did not help")).evaluate("e => e.removeAttribute('required')")
    panel.get_by_role("button", name="Reopen the case").click()
    expect(page.locator("#resolution-error")).to_contain_text("Say why the fix did not help")
    panel.get_by_label(re.compile("The fix did not help")).fill("Still reloading after the upgrade.")
    panel.get_by_role("button", name="Reopen the case").click()
    expect(page.locator(".flash-info")).to_contain_text("Case reopened")
    expect(panel).to_contain_text("Still reloading after the upgrade.")
    expect(page.get_by_role("button", name="Escalate to GTAC")).to_be_visible()
