"""Each role's whole journey in a real browser on a 390 px phone, one test per role, with the demo
accounts of the README: every page the journey visits is checked by axe-core at that width and must
not scroll sideways (assert_usable), as it stands when the person reaches it.

- the partner engineer opens a case, answers the checklist and escalates it;
- the customer follows the escalated case to its progress page;
- the GTAC engineer works an SR to its solution;
- the GTAC duty manager assigns an SR;
- the programmes team approves a claim (tests/payments/test_browser.py, beside the sandbox provider
  that pays it);
- the partner admin invites a user and replaces its bank details.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.accounts.mail import mailbox  # noqa: F401 (fixture)
from tests.browser import assert_usable
from tests.case_helpers import LOG_TEXT, TEXT_ANSWERS
from tests.srs.helpers import escalate, get_sr, move

pytestmark = pytest.mark.browser

TEXT_ITEMS = ("scope_what", "scope_when", "scope_how", "problem_isolation", "lab_simulation", "action_plan",
              "logs_analysed")


def arrive(page, what: str) -> None:
    """The page has loaded: it must pass axe-core and fit the phone."""
    page.wait_for_load_state()
    assert_usable(page, what)


def said(page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text).first).to_contain_text(text)


def item(page, code: str):
    return page.locator(f"#item-{code}")


def test_the_partner_engineer_opens_answers_and_escalates(phone, sign_in, tmp_path):
    page = sign_in(phone, "engineer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    arrive(page, "the partner's case list")

    page.goto("/cases/new")
    arrive(page, "the new case form")
    page.get_by_label("Serial number").fill("ACME-0003")
    page.get_by_label("Software version").fill("32.6.1.4")
    page.get_by_label("Severity").select_option("S2")
    page.get_by_label("Title").fill("Uplink to the core flaps every few minutes")
    page.get_by_label("Description").fill("Port 1:49 flaps since Monday's upgrade; users lose sessions.")
    page.get_by_role("button", name="Open case").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Uplink to the core flaps")
    arrive(page, "a new case")

    # The log is uploaded in its item, then the whole checklist is answered and saved at once.
    log = tmp_path / "error.log"
    log.write_bytes(LOG_TEXT)
    uploads = page.locator("#upload-form")
    uploads.get_by_label("Kind").select_option("error_log")
    uploads.get_by_label("File", exact=True).set_input_files(log)
    uploads.get_by_role("button", name="Upload").click()
    expect(uploads.get_by_role("status")).to_contain_text("Uploaded error.log")
    item(page, "logs_gathered").get_by_label(re.compile(r"^error\.log")).check()
    item(page, "customer_informed").get_by_label(re.compile("^I confirm")).check()
    for code in TEXT_ITEMS:
        item(page, code).get_by_label("Your answer").fill(TEXT_ANSWERS[code])
    specifications = item(page, "specifications_checked")
    specifications.get_by_label("Does not apply to this case").check()
    specifications.get_by_label("Why it does not apply").fill("The customer's design is a supported one.")
    item(page, "problem_duplicated").get_by_label("Yes", exact=True).check()
    notes = item(page, "release_notes_reviewed")
    rulings = notes.get_by_role("group")
    if rulings.count():
        for index in range(rulings.count()):
            rulings.nth(index).get_by_label("Not relevant").check()
    else:
        notes.get_by_role("checkbox").check()
    page.get_by_role("button", name="Save all answers").click()
    said(page, "Saved 12 answers.")
    expect(page.locator("label[for=checklist-progress]")).to_have_text("12 of 12 required items met")
    arrive(page, "a case ready for GTAC")

    escalation = page.get_by_role("form", name="Escalate to GTAC")
    escalation.get_by_label(re.compile("^Note for GTAC")).fill("The flap follows the port, not the optic.")
    escalation.get_by_role("button", name="Escalate to GTAC").click()
    box = page.get_by_role("region", name="GTAC service request")
    expect(box.locator("#sr-number")).to_have_text(re.compile(r"^SR\d{8}$"))
    arrive(page, "an escalated case")


def test_the_customer_follows_its_escalated_case(phone, sign_in, client, tokens):
    number = escalate(client, tokens, title="Core switch reboots at night")
    case_id = get_sr(client, tokens["gtac"], number)["case_id"]
    assert move(client, tokens["gtac"], number, "assigned").status_code == 200

    page = sign_in(phone, "customer")
    page.goto("/my/cases")
    arrive(page, "the customer's cases")
    page.get_by_role("link", name="Core switch reboots at night").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case #{case_id}: Core switch reboots at night")
    box = page.get_by_role("region", name="GTAC service request")
    expect(box.locator("#sr-number")).to_have_text(number)
    expect(box.locator("#sr-stage")).to_have_text("With GTAC")
    arrive(page, "the customer's escalated case")

    box.get_by_role("link", name="Follow its progress").click()
    progress = page.get_by_role("region", name="Progress")
    expect(progress.locator("#sr-number")).to_have_text(number)
    expect(progress.locator("#current-stage")).to_have_text("With GTAC")
    arrive(page, "the customer's progress page")

    page.get_by_role("link", name="Write to your partner on the case page").click()
    thread = page.locator("#thread-customer")
    thread.get_by_label("Message").fill("Does it need a maintenance window?")
    thread.get_by_role("button", name="Send to your partner").click()
    said(page, "Message posted.")
    expect(page.locator("#thread-customer")).to_contain_text("Does it need a maintenance window?")
    arrive(page, "the customer's case after writing to its partner")


def test_the_gtac_engineer_works_an_sr_to_its_solution(phone, sign_in, client, tokens):
    number = escalate(client, tokens, title="Stack node reboots under multicast load")
    page = sign_in(phone, "gtac")
    page.goto("/srs")
    arrive(page, "GTAC's queues")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    arrive(page, "a new SR")

    for button, status in (("Take", "assigned"), ("Work on it", "in progress")):
        page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state()
        expect(page.get_by_role("region", name="Service request").locator('[data-field="status"]')
               ).to_contain_text(status, ignore_case=True)
        arrive(page, f"an SR {status}")

    actions = page.get_by_role("region", name="Actions")
    actions.get_by_label("Solution kind").select_option(index=0)
    actions.get_by_label("Solution", exact=True).fill("Upgrade to 32.7.1.2, which fixes EXOS-31207.")
    actions.get_by_role("button", name="Provide the solution").click()
    page.wait_for_load_state()
    expect(page.get_by_role("region", name="Service request").locator('[data-field="status"]')
           ).to_contain_text("solution provided", ignore_case=True)
    expect(page.get_by_role("region", name="Solutions")).to_contain_text("Upgrade to 32.7.1.2")
    arrive(page, "an SR with its solution")
    assert get_sr(client, tokens["gtac"], number)["status"] == "solution_provided"


def test_the_gtac_manager_assigns_an_sr(phone, sign_in, client, tokens):
    number = escalate(client, tokens, title="Fabric uplink drops at night")
    page = sign_in(phone, "manager")
    page.goto("/gtac/dashboard")
    arrive(page, "the manager's dashboard")
    page.goto("/srs")
    arrive(page, "the manager's queues")
    page.get_by_role("link", name=number).click()
    arrive(page, "the SR the manager assigns")

    panel = page.get_by_role("region", name="Assignment and severity")
    panel.get_by_label("Engineer").select_option(label="Grace GTAC")
    panel.get_by_label("Note with the assignment").fill("Grace knows this fabric.")
    panel.get_by_role("button", name="Assign").click()
    said(page, f"SR {number} assigned.")
    expect(page.get_by_role("region", name="Service request").locator('[data-field="assignee"]')
           ).to_contain_text("Grace GTAC")
    arrive(page, "an SR just assigned")
    assert get_sr(client, tokens["gtac"], number)["status"] == "assigned"


def test_the_partner_admin_manages_its_users_and_bank_details(phone, sign_in, mailbox):  # noqa: F811
    page = sign_in(phone, "admin")
    page.goto("/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    arrive(page, "the partner's users")
    page.get_by_role("link", name="Invite a user").click()
    arrive(page, "the invitation form")
    page.get_by_label("E-mail").fill("omar@northwind.example")
    page.get_by_label("Name").fill("Omar Onboarding")
    page.get_by_label("Role").select_option("partner_engineer")
    page.get_by_role("button", name="Send the invitation").click()
    said(page, "Omar Onboarding is invited")
    arrive(page, "a user just invited")

    page.goto("/payments/partner")
    arrive(page, "the partner's payments page")
    bank = page.get_by_role("region", name="Bank details")
    bank.get_by_role("radio", name="IBAN account").check()
    bank.get_by_label("Account holder").fill("Northwind Networks GmbH")
    bank.get_by_label("IBAN", exact=True).fill("DE89 3704 0044 0532 0130 00")
    bank.get_by_role("button", name="Replace bank details").click()
    said(page, "Bank details saved")
    expect(page.get_by_role("region", name="Bank details")).to_contain_text("DE89 **** 3000")
    arrive(page, "the partner's payments page with new bank details")
