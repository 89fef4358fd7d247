"""GTAC's SR page as a workspace: the case, the partner's checklist answers, triage and duplicates,
and every control the role may use, in a real browser."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_usable, sign_in
from tests.srs.helpers import escalate, get_sr

pytestmark = pytest.mark.browser


def test_gtac_reads_the_case_and_the_partners_checklist_on_the_sr_page(app, client, tokens, page):
    earlier = escalate(client, tokens, title="Uplink 1:49 flaps on the core switch")
    number = escalate(client, tokens, title="Uplink flaps again on core switch")
    case_id = get_sr(client, tokens["gtac"], number)["case_id"]
    sign_in(page, "gtac")
    page.goto(f"/srs/{number}")

    case = page.get_by_role("region", name=f"Case #{case_id}")
    expect(case).to_contain_text("Uplink flaps again on core switch")
    expect(case).to_contain_text("ACME-0003")
    expect(case).to_contain_text("Port 1:49 flaps.")
    expect(case.get_by_role("textbox")).to_have_count(0)  # read-only

    answers = page.get_by_role("region", name="Partner's checklist answers")
    first = answers.locator("#answer-customer_informed")
    expect(first.get_by_role("heading")).to_have_text("1. Customer told that the partner is its point of contact")
    expect(first).to_contain_text("Confirmed.")
    expect(answers.locator("#answer-problem_isolation")).to_contain_text("the flap follows the port")
    expect(answers.locator("#answer-logs_gathered").get_by_role("link")).to_have_count(1)
    ruling = answers.locator("#answer-release_notes_reviewed")
    expect(ruling.get_by_role("heading")).to_contain_text("5. ")  # numbered as SPEC §4.2 numbers it
    expect(page.get_by_role("region", name="Partner's triage")).to_contain_text("checklist item 5")
    expect(answers.get_by_role("textbox")).to_have_count(0)
    expect(answers.get_by_role("button")).to_have_count(0)

    triage = page.get_by_role("region", name="Partner's triage")
    earlier_case = get_sr(client, tokens["gtac"], earlier)["case_id"]
    expect(triage.get_by_role("heading", name="Possible duplicates")).to_be_visible()
    expect(triage.get_by_role("link", name=f"Case #{earlier_case}")).to_be_visible()
    assert_usable(page, "GTAC's SR page with the case and checklist")

    case.get_by_role("link", name=f"Open case #{case_id}").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Uplink flaps again on core switch")


def test_each_role_finds_the_sr_controls_it_may_use(app, client, tokens, page, browser, live_server):
    number = escalate(client, tokens)
    sign_in(page, "manager")
    page.goto(f"/srs/{number}")
    expect(page.get_by_role("button", name="Take")).to_be_visible()
    assignment = page.get_by_role("region", name="Assignment and severity")
    assignment.get_by_label("Engineer").select_option(label="Grace GTAC")
    assignment.get_by_role("button", name="Assign").click()
    page.wait_for_load_state()
    expect(page.get_by_role("status").first).to_contain_text(f"SR {number} assigned.")
    assert get_sr(client, tokens["gtac"], number)["status"] == "assigned"
    page.get_by_label("Severity", exact=True).select_option("S1")
    page.get_by_role("button", name="Change severity").click()
    page.wait_for_load_state()
    expect(page.get_by_role("region", name="Service request").locator('[data-field="severity"]')).to_contain_text("S1")
    assert_usable(page, "the manager's SR page")

    engineer = browser.new_context(base_url=live_server)
    engineer.set_default_timeout(10_000)
    try:
        tab = engineer.new_page()
        sign_in(tab, "gtac")  # the assigned engineer: works the SR, assigns no one
        tab.goto(f"/srs/{number}")
        expect(tab.get_by_role("button", name="Work on it")).to_be_visible()
        expect(tab.get_by_label("Engineer")).to_have_count(0)
        expect(tab.get_by_role("button", name="Change severity")).to_be_visible()
        partner = engineer.browser.new_context(base_url=live_server)
        try:
            mine = partner.new_page()
            sign_in(mine, "engineer")  # the partner: no GTAC control
            mine.goto(f"/srs/{number}")
            expect(mine.get_by_role("region", name="Partner's checklist answers")).to_be_visible()
            for control in ("Take", "Work on it", "Change severity", "Assign"):
                expect(mine.get_by_role("button", name=control, exact=True)).to_have_count(0)
        finally:
            partner.close()
    finally:
        engineer.close()
