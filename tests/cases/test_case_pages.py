"""Partners and customers work cases through the web pages, in a real browser."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_usable

pytestmark = pytest.mark.browser

SEEDED_S2 = "Stack member reboots under multicast load"
SEEDED_S3 = "Fan tray alarm on core switch"


def main_nav(page):
    return page.get_by_role("navigation", name="Main")


def submit(page, button: str):
    """Click a form's submit button and return the HTTP answer to the POST."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    return answer.value


def fill_case(page, serial: str, severity: str, title: str, description: str):
    page.get_by_label("Serial number").fill(serial)
    page.get_by_label("Software version").fill("32.6.1.4")
    page.get_by_label("Severity").select_option(severity)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill(description)


def case_rows(page):
    return page.get_by_role("table").locator("tbody tr")


def test_engineer_opens_a_case_and_finds_it_in_the_list(page, sign_in, artifacts):
    sign_in(page, "engineer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")

    main_nav(page).get_by_role("link", name="Open a case").click()
    fill_case(page, "ACME-0003", "S2", "Uplink 1:49 flaps every few minutes",
              "Port 1:49 goes down and up again every three to five minutes since Tuesday.")
    page.get_by_label("What happens").fill("The uplink to the core flaps; users lose sessions.")
    assert submit(page, "Open case").status == 303  # to the new case's page

    expect(page.get_by_role("heading", level=1)).to_contain_text("Uplink 1:49 flaps every few minutes")
    case_id = int(re.search(r"/cases/(\d+)$", page.url).group(1))
    expect(page.get_by_role("status").filter(has_text="is open")).to_contain_text(f"Case #{case_id} is open")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("Acme Corp")
    expect(details).to_contain_text("ACME-0003")
    expect(details).to_contain_text("The uplink to the core flaps")
    audit = page.get_by_role("region", name="Audit trail")
    expect(audit.locator("tr", has_text="opened the case")).to_contain_text(
        "Nadia Engineer opened the case at severity S2 on serial ACME-0003.")
    expect(audit).not_to_contain_text("case.opened")

    main_nav(page).get_by_role("link", name="Cases", exact=True).click()
    row = case_rows(page).filter(has_text="Uplink 1:49 flaps every few minutes")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Acme Corp")
    expect(row).to_contain_text("S2")
    expect(row).to_contain_text("EXOS X465-48T")
    expect(row).to_contain_text("ACME-0003")
    expect(row.locator("td[data-label=Status]")).to_have_text("open")
    expect(case_rows(page).first).to_contain_text(f"#{case_id}")  # newest first
    page.screenshot(path=str(artifacts / "case-list.png"), full_page=True)

    row.get_by_role("link", name=f"#{case_id}").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))


def test_a_serial_outside_the_contracts_is_refused_on_the_form(page, sign_in):
    sign_in(page, "engineer")
    page.goto("/cases/new")
    fill_case(page, "FAB-0001", "S3", "Not our customer's switch", "Should be refused.")
    answer = submit(page, "Open case")

    assert answer.status == 422
    expect(page.get_by_role("alert")).to_contain_text("not covered by a service contract of yours")
    expect(page.get_by_label("Serial number")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Title")).to_have_value("Not our customer's switch")


def test_invalid_fields_are_named_and_nothing_is_opened(page, sign_in):
    sign_in(page, "engineer")
    page.goto("/cases/new")
    fill_case(page, "ACME-0002", "S3", "ab", "Too short a title, and a version with a space.")
    page.get_by_label("Software version").fill("32.6 beta")
    answer = submit(page, "Open case")

    assert answer.status == 400
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Title")
    expect(summary).to_contain_text("Software version")
    page.goto("/cases")
    expect(case_rows(page)).to_have_count(2)  # only the seeded cases


def test_customer_opens_a_request_and_sees_it_in_my_cases(page, sign_in):
    sign_in(page, "customer")
    expect(page.get_by_role("heading", level=1)).to_have_text("My cases")

    main_nav(page).get_by_role("link", name="Open a request").click()
    expect(page.get_by_text("Your request goes to your partner, Northwind Networks")).to_be_visible()
    fill_case(page, "ACME-0005", "S3", "Console port unresponsive",
              "The console port of the switch in rack B4 prints nothing since the weekend.")
    submit(page, "Send request")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Console port unresponsive")
    case_id = int(re.search(r"/cases/(\d+)$", page.url).group(1))
    expect(page.get_by_role("region", name="Audit trail")).to_have_count(0)

    main_nav(page).get_by_role("link", name="My cases").click()
    row = case_rows(page).filter(has_text="Console port unresponsive")
    expect(row).to_contain_text(f"#{case_id}")
    expect(row).to_contain_text("ACME-0005")
    expect(row).to_contain_text("open")
    expect(case_rows(page)).to_have_count(3)  # with the two seeded Acme cases


def test_customer_never_sees_internal_notes_or_the_audit_trail(page, sign_in):
    sign_in(page, "engineer")
    case_rows(page).filter(has_text=SEEDED_S2).get_by_role("link", name=SEEDED_S2).click()
    internal = page.get_by_role("region", name="Internal notes")
    internal.get_by_label("Message").fill("Suspect IGMP table exhaustion; reproduce in the lab first.")
    submit(page, "Add internal note")
    expect(page.get_by_role("region", name="Internal notes")).to_contain_text("IGMP table exhaustion")
    with_customer = page.get_by_role("region", name="Messages with the customer")
    with_customer.get_by_label("Message").fill("We are looking into the reboots and will call you today.")
    submit(page, "Send to the customer")
    expect(page.get_by_role("region", name="Messages with the customer")).to_contain_text("call you today")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    sign_in(page, "customer")
    case_rows(page).filter(has_text=SEEDED_S2).get_by_role("link", name=SEEDED_S2).click()
    expect(page.get_by_role("region", name="Messages with your partner")).to_contain_text("call you today")
    expect(page.get_by_text("IGMP table exhaustion")).to_have_count(0)
    expect(page.get_by_role("region", name="Internal notes")).to_have_count(0)
    expect(page.get_by_role("region", name="Messages with GTAC")).to_have_count(0)
    expect(page.get_by_role("heading", name="Audit trail")).to_have_count(0)


def test_the_gtac_channel_refuses_posts_until_the_case_is_escalated(page, sign_in):
    sign_in(page, "engineer")
    case_rows(page).filter(has_text=SEEDED_S2).get_by_role("link", name=SEEDED_S2).click()
    gtac = page.get_by_role("region", name="Messages with GTAC")
    gtac.get_by_label("Message").fill("Core file attached, please look.")
    answer = submit(page, "Send to GTAC")

    assert answer.status == 422
    gtac = page.get_by_role("region", name="Messages with GTAC")
    expect(gtac.get_by_role("alert")).to_contain_text("opens once the case is escalated")
    expect(gtac.get_by_label("Message")).to_have_value("Core file attached, please look.")
    expect(gtac.get_by_role("listitem")).to_have_text(["No messages yet."])


def test_filters_narrow_the_list_and_can_be_cleared(page, sign_in):
    sign_in(page, "engineer")
    expect(case_rows(page)).to_have_count(2)

    page.get_by_label("Severity").select_option("S3")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"severity=S3"))
    expect(case_rows(page)).to_have_count(1)
    expect(case_rows(page)).to_contain_text(SEEDED_S3)

    page.get_by_label("Severity").select_option("")
    page.get_by_label("Title or serial contains").fill("multicast")
    page.get_by_role("button", name="Filter").click()
    expect(case_rows(page)).to_have_count(1)
    expect(case_rows(page)).to_contain_text(SEEDED_S2)

    page.get_by_label("Status").select_option("closed")
    page.get_by_role("button", name="Filter").click()
    expect(case_rows(page)).to_have_text(["No case matches these filters."])

    page.get_by_role("link", name="Clear filters").click()
    expect(case_rows(page)).to_have_count(2)


def test_older_cases_page_keeps_the_filters(page, sign_in, client, tokens):
    for n in range(27):
        opened = client.post("/api/v1/cases", headers=tokens["engineer"], json={
            "serial_number": "ACME-0004", "software_version": "32.6.1.4", "severity": "S4",
            "title": f"Documentation question {n:02d}", "description": "Where is the CLI guide?"})
        assert opened.status_code == 201, opened.json

    sign_in(page, "engineer")
    page.get_by_label("Severity").select_option("S4")
    page.get_by_role("button", name="Filter").click()
    expect(case_rows(page)).to_have_count(25)
    expect(case_rows(page).first).to_contain_text("Documentation question 26")

    page.get_by_role("link", name="Older cases").click()
    expect(page).to_have_url(re.compile(r"cursor=.*severity=S4|severity=S4.*cursor="))
    expect(case_rows(page)).to_have_count(2)
    expect(case_rows(page).nth(0)).to_contain_text("Documentation question 01")
    expect(case_rows(page).nth(1)).to_contain_text("Documentation question 00")
    expect(page.get_by_role("link", name="Older cases")).to_have_count(0)

    page.get_by_role("link", name="Newest cases").click()
    expect(case_rows(page).first).to_contain_text("Documentation question 26")


def test_gtac_sees_only_escalated_cases(page, sign_in):
    sign_in(page, "gtac")
    expect(page.get_by_role("heading", level=1)).to_have_text("GTAC queues")  # GTAC starts at its queues
    page.goto("/cases")
    expect(case_rows(page)).to_have_text(["No cases yet."])
    expect(main_nav(page).get_by_role("link", name="Open a case")).to_have_count(0)


def test_another_partners_case_is_not_found(page, sign_in, client, tokens):
    listed = client.get("/api/v1/cases", headers=tokens["engineer"]).json["items"]
    sign_in(page, "contoso")
    answer = page.goto(f"/cases/{listed[0]['id']}")

    assert answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_contain_text("404")
    expect(page.get_by_text(listed[0]["title"])).to_have_count(0)


def test_the_partner_changes_an_open_cases_severity_and_the_audit_trail_says_so(page, sign_in):
    sign_in(page, "engineer")
    case_rows(page).filter(has_text=SEEDED_S3).get_by_role("link", name=SEEDED_S3).click()
    details = page.get_by_role("region", name="Details")
    expect(details.get_by_label("Severity")).to_have_value("S3")
    details.get_by_label("Severity").select_option("S2")
    assert submit(page, "Change severity").status == 303
    expect(page.get_by_role("status").filter(has_text="Severity")).to_contain_text("Severity is now S2.")
    details = page.get_by_role("region", name="Details")
    expect(details.locator(".badge")).to_have_text("S2")
    audit = page.get_by_role("region", name="Audit trail")
    expect(audit.locator("tr", has_text="changed the severity")).to_contain_text(
        "Nadia Engineer changed the severity from S3 to S2.")
    expect(audit).not_to_contain_text("None")
    expect(audit).not_to_contain_text("severity_changed")
    assert_usable(page, "an open case's page")

    # Choosing the same severity again records nothing more.
    rows = audit.locator("tbody tr").count()
    assert submit(page, "Change severity").status == 303
    expect(page.get_by_role("region", name="Audit trail").locator("tbody tr")).to_have_count(rows)


def test_the_customer_cannot_change_the_severity(page, sign_in):
    sign_in(page, "customer")
    page.get_by_role("link", name=SEEDED_S3).click()
    expect(page.get_by_role("region", name="Details")).to_be_visible()
    expect(page.get_by_role("button", name="Change severity")).to_have_count(0)


def test_sending_one_form_keeps_what_was_typed_in_the_others(page, sign_in):
    sign_in(page, "engineer")
    case_rows(page).filter(has_text=SEEDED_S2).get_by_role("link", name=SEEDED_S2).click()
    page.wait_for_load_state()  # drafts.js (deferred) keeps typing only once it has run
    note = "Suspect IGMP table exhaustion; check the snooping limits first."
    reply = "We are looking into the reboots and will call you today."
    # Typed into two forms; neither is sent.
    page.get_by_role("region", name="Internal notes").get_by_label("Message").fill(note)
    page.get_by_role("region", name="Messages with the customer").get_by_label("Message").fill(reply)

    # A third form is sent: the page reloads with both texts still there, and says why.
    page.get_by_role("region", name="Details").get_by_label("Severity").select_option("S1")
    assert submit(page, "Change severity").status == 303
    internal = page.get_by_role("region", name="Internal notes")
    expect(internal.get_by_label("Message")).to_have_value(note)
    expect(internal).to_contain_text("Not sent yet")
    with_customer = page.get_by_role("region", name="Messages with the customer")
    expect(with_customer.get_by_label("Message")).to_have_value(reply)

    # Sending the internal note forgets its draft, and only its.
    assert submit(page, "Add internal note").status == 303
    internal = page.get_by_role("region", name="Internal notes")
    expect(internal).to_contain_text("IGMP table exhaustion")
    expect(internal.get_by_label("Message")).to_have_value("")
    expect(page.get_by_role("region", name="Messages with the customer").get_by_label("Message")).to_have_value(reply)
    assert_usable(page, "a case page with a kept draft")
