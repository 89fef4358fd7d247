"""The SR page's forms in a real browser: GTAC's files for the partner, and the RMA from request to receipt."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import sign_in
from tests.srs.helpers import escalate, get_sr, make_sr
from tests.browser import assert_usable

pytestmark = pytest.mark.browser


def test_gtac_uploads_on_the_sr_page_and_the_partner_sees_it_on_the_case_page(app, client, tokens, page, browser,
                                                                            live_server):
    number = make_sr(app, "in_progress")
    case_id = get_sr(client, tokens["gtac"], number)["case_id"]
    sign_in(page, "gtac")
    page.goto(f"/srs/{number}")
    files = page.get_by_role("region", name="Files")
    expect(files).to_contain_text("No files yet.")
    files.get_by_label("Kind").select_option("other")
    files.get_by_label("File").set_input_files({"name": "debug-image-notes.txt", "mimeType": "text/plain",
                                                "buffer": b"Load debug image 32.6.1.4-p1 and send show tech.\n"})
    files.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    expect(page.get_by_role("status").first).to_contain_text("Uploaded debug-image-notes.txt")
    row = files.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("debug-image-notes.txt")
    expect(row).to_contain_text("GTAC")

    partner = browser.new_context(base_url=live_server)
    partner.set_default_timeout(10_000)
    try:
        tab = partner.new_page()
        sign_in(tab, "engineer")
        tab.goto(f"/cases/{case_id}")
        attachments = tab.locator("#attachments")
        expect(attachments).to_contain_text("debug-image-notes.txt")
        expect(attachments.get_by_text("From GTAC")).to_be_visible()
        with tab.expect_download() as download:
            attachments.get_by_role("link", name="debug-image-notes.txt").click()
        assert download.value.suggested_filename == "debug-image-notes.txt"
    finally:
        partner.close()


def test_an_rma_from_request_to_receipt_on_the_sr_page(app, client, tokens, page, browser, live_server):
    number = escalate(client, tokens, hardware_issue=True)
    sign_in(page, "engineer")
    page.goto(f"/srs/{number}")
    rmas = page.get_by_role("region", name="RMAs")
    rmas.get_by_label("Serial number 1").fill("ACME-0003")
    rmas.get_by_label("Failure of product 1").fill("Port 1:49 fails link negotiation.")
    rmas.get_by_label("Serial number 2").fill("FAB-0001")
    rmas.get_by_label("Failure of product 2").fill("Power supply dead after the storm.")
    rmas.get_by_label("Ship the replacement to").fill("Acme Corp, Dock 4, 1 Main Street, Springfield")
    rmas.get_by_role("button", name="Request RMA").click()
    page.wait_for_load_state()
    # Refused as a whole, each uncovered serial with its reason, and the form keeps what was typed.
    error = page.get_by_role("alert")
    expect(error).to_contain_text("not covered")
    expect(error.locator("li")).to_have_count(1)
    expect(error.locator("li")).to_contain_text("FAB-0001")
    expect(rmas.get_by_label("Serial number 1")).to_have_value("ACME-0003")
    rmas.get_by_label("Serial number 2").fill("")
    rmas.get_by_label("Failure of product 2").fill("")
    rmas.get_by_role("button", name="Request RMA").click()
    page.wait_for_load_state()
    expect(page.get_by_role("status").first).to_contain_text("requested")
    rma_number = get_sr(client, tokens["engineer"], number)["rmas"][0]["rma_number"]
    card = page.locator(f"#rma-{rma_number}")
    expect(card.locator('[data-field="rma-status"]')).to_have_text("requested")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)  # the partner never approves
    assert_usable(page, "the partner's SR page with a requested RMA")

    gtac = browser.new_context(base_url=live_server)
    gtac.set_default_timeout(10_000)
    try:
        tab = gtac.new_page()
        sign_in(tab, "gtac")
        tab.goto(f"/srs/{number}")
        gtac_card = tab.locator(f"#rma-{rma_number}")
        expect(gtac_card).to_contain_text("ACME-0003")
        expect(tab.get_by_role("button", name="Request RMA")).to_have_count(0)
        assert_usable(tab, "GTAC's SR page with an RMA to decide")
        gtac_card.get_by_role("button", name="Approve").click()
        tab.wait_for_load_state()
        expect(gtac_card.locator('[data-field="rma-status"]')).to_have_text("approved")
        gtac_card.get_by_role("button", name="Mark shipped").click()  # no tracking: the browser asks for it
        expect(gtac_card.locator('[data-field="rma-status"]')).to_have_text("approved")
        gtac_card.get_by_label("Carrier tracking number").fill("1Z999AA10123456784")
        gtac_card.get_by_role("button", name="Mark shipped").click()
        tab.wait_for_load_state()
        expect(gtac_card.locator('[data-field="rma-status"]')).to_have_text("shipped")
    finally:
        gtac.close()

    page.reload()
    expect(card.locator('[data-field="rma-tracking"]')).to_have_text("1Z999AA10123456784")
    card.get_by_role("button", name="Confirm received").click()
    page.wait_for_load_state()
    expect(card.locator('[data-field="rma-status"]')).to_have_text("received")
    assert client.get(f"/api/v1/rmas/{rma_number}", headers=tokens["engineer"]).json["status"] == "received"


def test_a_manager_assigns_reassigns_and_re_rates_an_sr_from_its_page(app, client, tokens, page, browser,
                                                                     live_server):
    number = make_sr(app, "new", assignee_email=None, severity="S3")
    sign_in(page, "manager")
    page.goto(f"/srs/{number}")
    details = page.get_by_role("region", name="Service request")
    panel = page.get_by_role("region", name="Assignment and severity")
    assert_usable(page, "a new SR, seen by a GTAC manager")
    panel.get_by_label("Engineer").select_option(label="Grace GTAC")
    panel.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status").first).to_contain_text(f"SR {number} assigned.")
    expect(details.locator('[data-field="status"]')).to_have_text("assigned")
    expect(details.locator('[data-field="assignee"]')).to_have_text("Grace GTAC")

    panel = page.get_by_role("region", name="Assignment and severity")
    panel.get_by_label("Engineer").select_option(label="Max Manager (manager)")
    panel.get_by_label("Note with the assignment").fill("Taking it over while Grace is on leave")
    panel.get_by_role("button", name="Reassign").click()
    expect(details.locator('[data-field="assignee"]')).to_have_text("Max Manager")
    expect(page.locator("#timeline li").first).to_contain_text("assigned to Max Manager")

    panel = page.get_by_role("region", name="Assignment and severity")
    panel.get_by_label("Severity").select_option("S1")
    panel.get_by_label("Why").fill("The whole campus is down")
    panel.get_by_role("button", name="Change severity").click()
    expect(page.get_by_role("status").first).to_contain_text("severity is now S1")
    expect(details.locator('[data-field="severity"]')).to_have_text("S1")
    expect(page.locator("#timeline li").first).to_contain_text("severity S3 → S1")
    sr = get_sr(client, tokens["manager"], number)
    assert (sr["severity"], sr["assignee"]["name"]) == ("S1", "Max Manager")


def test_an_engineer_re_rates_but_does_not_assign_and_the_partner_does_neither(app, page, browser, live_server):
    number = make_sr(app, "in_progress", severity="S2")
    sign_in(page, "gtac")
    page.goto(f"/srs/{number}")
    panel = page.get_by_role("region", name="Assignment and severity")
    expect(panel.get_by_label("Engineer")).to_have_count(0)
    panel.get_by_label("Severity").select_option("S4")
    panel.get_by_role("button", name="Change severity").click()
    expect(page.get_by_role("region", name="Service request").locator('[data-field="severity"]')).to_have_text("S4")

    partner = browser.new_context(base_url=live_server)
    partner.set_default_timeout(10_000)
    try:
        tab = partner.new_page()
        sign_in(tab, "engineer")
        tab.goto(f"/srs/{number}")
        expect(tab.get_by_role("region", name="Service request")).to_be_visible()
        expect(tab.get_by_role("region", name="Assignment and severity")).to_have_count(0)
        # Posting the form anyway is refused by the service.
        answer = tab.request.post(f"{live_server}/srs/{number}/severity", form={"severity": "S1"})
        assert answer.status in (400, 403)
    finally:
        partner.close()
