"""In a real browser: the case page shows triage's findings and keeps the weaker matches folded away."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CASE = {"serial_number": "ACME-0002", "software_version": "32.6.1.4", "severity": "S2",
        "title": "Stack unit restarts when many multicast groups join",
        "description": "Slot 3 of the X465 stack reloads daily when IGMP snooping has thousands of groups."}


def test_findings_are_shown_and_weaker_matches_open_on_demand(client, tokens, page, sign_in):
    case_id = client.post("/api/v1/cases", json=CASE, headers=tokens["engineer"]).json["id"]
    sign_in(page, "engineer")
    page.goto(f"/cases/{case_id}")
    panel = page.locator("#triage")
    finding = panel.locator("#suggestion-EXOS-31207")
    expect(finding).to_be_visible()
    expect(finding).to_contain_text(re.compile(r"\d+% confidence"))
    expect(finding).to_contain_text("Shares:")
    weaker = panel.locator("details.weaker li.suggestion")
    assert weaker.count() >= 1
    expect(weaker.first).to_be_hidden()
    panel.get_by_text(re.compile(r"^Weaker matches \(\d+\)$")).click()
    expect(weaker.first).to_be_visible()
    # The checklist asks for a ruling on the finding only.
    notes = page.locator("#item-release_notes_reviewed")
    expect(notes.get_by_role("group")).to_have_count(1)
    expect(notes.get_by_role("group")).to_contain_text("EXOS-31207")
