"""The case page as a workspace, in a real browser: the whole escalation journey with the keyboard
alone, the readiness panel from the moment a case opens, and nothing typed lost when one item is saved."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_usable, opened_with_live_updates_refused, streams_held, wait_for_streams
from tests.case_helpers import LOG_TEXT, TEXT_ANSWERS
from tests.conftest import DEMO_EMAILS
from tests.srs.helpers import escalate, get_sr, move
from app.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser

TEXT_ITEMS = ("scope_what", "scope_when", "scope_how", "problem_isolation", "lab_simulation", "action_plan",
              "logs_analysed")


def tab_to(page, target, limit: int = 300) -> None:
    """Moves the focus to `target` with Tab (or Shift+Tab when it lies above the focus), as a keyboard user
    would; fails if the key never reaches it."""
    target.wait_for(state="attached")
    handle = target.element_handle()
    above = page.evaluate("""t => { const at = document.activeElement;
        return !!at && at !== document.body && !!(t.compareDocumentPosition(at) & Node.DOCUMENT_POSITION_FOLLOWING); }""",
                          handle)
    key = "Shift+Tab" if above else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("t => document.activeElement === t", handle):
            return
    raise AssertionError(f"{key} never reached {target}")


def item(page, code: str):
    return page.locator(f"#item-{code}")


def save_by_keyboard(page, code: str, expected: str = "Met") -> None:
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        tab_to(page, item(page, code).get_by_role("button", name="Save"))
        page.keyboard.press("Enter")
    assert answer.value.status == 303, (code, answer.value.status)
    expect(item(page, code).locator(".item-status")).to_contain_text(expected)


def type_into(page, field, words: str) -> None:
    tab_to(page, field)
    page.keyboard.type(words)


def test_the_whole_escalation_journey_with_the_keyboard_alone(page, tmp_path, artifacts):
    # File choosers are intercepted from the start: expect_file_chooser alone turns interception on
    # without waiting for the browser, and a Space pressed on a loaded machine can beat it.
    page.on("filechooser", lambda _chooser: None)
    page.goto("/login")
    type_into(page, page.get_by_label("E-mail"), DEMO_EMAILS["engineer"])
    type_into(page, page.get_by_label("Password"), DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")

    # Open a case.
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Open a case"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Open a case")
    type_into(page, page.get_by_label("Serial number"), "ACME-0003")
    type_into(page, page.get_by_label("Software version"), "32.6.1.4")
    tab_to(page, page.get_by_label("Severity"))
    page.keyboard.type("S2")
    expect(page.get_by_label("Severity")).to_have_value("S2")
    type_into(page, page.get_by_label("Title"), "Stack node reboots when many multicast groups join")
    type_into(page, page.get_by_label("Description"),
              "A stack node reboots every evening: mcmgr not responding, then the process watchdog reboots it. "
              "The IGMP snooping group table looks full when it happens.")
    tab_to(page, page.get_by_role("button", name="Open case"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stack node reboots")
    page.wait_for_load_state()
    expect(page.locator("#readiness")).to_contain_text("12 checklist items still open")

    # Item 1: an attestation, ticked with the space bar.
    tab_to(page, item(page, "customer_informed").get_by_label(re.compile("^I confirm")))
    page.keyboard.press("Space")
    save_by_keyboard(page, "customer_informed")
    for code in TEXT_ITEMS[:4]:
        type_into(page, item(page, code).get_by_label("Your answer"), TEXT_ANSWERS[code])
        save_by_keyboard(page, code)

    # Item 3: the log is uploaded where it is asked for, then chosen and saved.
    log = tmp_path / "error.log"
    log.write_bytes(LOG_TEXT)
    uploads = page.locator("#upload-form")
    tab_to(page, uploads.get_by_label("Kind"))
    page.keyboard.type("Error")
    expect(uploads.get_by_label("Kind")).to_have_value("error_log")
    tab_to(page, uploads.get_by_label("File", exact=True))
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(log)
    tab_to(page, uploads.get_by_role("button", name="Upload"))
    page.keyboard.press("Enter")
    expect(uploads.get_by_role("status")).to_contain_text("Uploaded error.log")
    tab_to(page, item(page, "logs_gathered").get_by_label(re.compile(r"^error\.log")))
    page.keyboard.press("Space")
    save_by_keyboard(page, "logs_gathered")

    # Item 5: one ruling per suggested anomaly; the arrow moves a radio group's choice to "Not relevant".
    notes = item(page, "release_notes_reviewed")
    groups = notes.get_by_role("group")
    if groups.count():
        for index in range(groups.count()):
            tab_to(page, groups.nth(index).get_by_label("Matches this case"))
            page.keyboard.press("ArrowRight")
            expect(groups.nth(index).get_by_label("Not relevant")).to_be_checked()
    else:
        tab_to(page, notes.get_by_role("checkbox"))
        page.keyboard.press("Space")
    save_by_keyboard(page, "release_notes_reviewed")

    # Item 6 does not apply: the box swaps the answer for the reason.
    specifications = item(page, "specifications_checked")
    tab_to(page, specifications.get_by_label("Does not apply to this case"))
    page.keyboard.press("Space")
    type_into(page, specifications.get_by_label("Why it does not apply"), "The customer's design is a supported one.")
    save_by_keyboard(page, "specifications_checked")

    type_into(page, item(page, "lab_simulation").get_by_label("Your answer"), TEXT_ANSWERS["lab_simulation"])
    save_by_keyboard(page, "lab_simulation")
    tab_to(page, item(page, "problem_duplicated").get_by_label("Yes", exact=True))
    page.keyboard.press("Space")
    save_by_keyboard(page, "problem_duplicated")
    for code in TEXT_ITEMS[5:]:
        type_into(page, item(page, code).get_by_label("Your answer"), TEXT_ANSWERS[code])
        save_by_keyboard(page, code)

    expect(page.locator("label[for=checklist-progress]")).to_have_text("12 of 12 required items met")
    expect(page.locator("#readiness")).to_contain_text("Nothing blocks the escalation.")
    assert_usable(page, "a case ready for GTAC")

    # Escalate.
    escalate = page.get_by_role("form", name="Escalate to GTAC")
    type_into(page, escalate.get_by_label(re.compile("^Note for GTAC")), "Reboots follow the IGMP table filling up.")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        tab_to(page, escalate.get_by_role("button", name="Escalate to GTAC"))
        page.keyboard.press("Enter")
    assert answer.value.status == 303
    service_request = page.get_by_role("region", name="GTAC service request")
    expect(service_request.locator("#sr-number")).to_have_text(re.compile(r"^SR\d{8}$"))
    expect(page.locator("#readiness")).to_have_count(0)
    page.screenshot(path=str(artifacts / "case-escalated-by-keyboard.png"))
    assert_usable(page, "an escalated case")


def test_the_readiness_panel_shows_tier_and_certification_at_once(page, sign_in, client, tokens):
    # Contoso is a PartnerWorks partner; its engineer's VOSS certification has expired.
    opened = client.post("/api/v1/cases", headers=tokens["contoso"], json={
        "serial_number": "FAB-0002", "software_version": "8.10.1.0", "severity": "S2",
        "title": "Fabric node drops ISIS adjacency", "description": "The adjacency to the core drops hourly."})
    assert opened.status_code == 201, opened.json
    sign_in(page, "contoso")
    page.goto(f"/cases/{opened.json['id']}")

    panel = page.get_by_role("region", name="Readiness for GTAC")
    expect(panel).to_be_in_viewport()
    outside = panel.get_by_role("list", name="Blockers outside the checklist")
    expect(outside.get_by_role("listitem")).to_have_count(2)
    expect(outside).to_contain_text("PartnerWorks partners may escalate S1 cases only.")
    expect(outside).to_contain_text(re.compile(r"Your VOSS certification expired on \d{4}-\d{2}-\d{2}\."))
    expect(outside).to_contain_text("Renew your VOSS certification with the vendor")
    items = panel.get_by_role("list", name="Checklist items still open")
    expect(items.get_by_role("link", name="Item 1: Customer told that the partner is its point of contact: "
                                          "Not attested yet.")).to_be_visible()
    # Each blocker leads to where it is fixed.
    outside.get_by_role("link", name="Review the severity").click()
    expect(page).to_have_url(re.compile(r"#details$"))
    items.get_by_role("link", name=re.compile("^Item 5: Release notes reviewed")).click()
    expect(item(page, "release_notes_reviewed")).to_be_in_viewport()
    assert_usable(page, "a case with blockers outside the checklist")


def test_nothing_typed_ticked_or_chosen_is_lost_when_an_item_is_saved_or_a_log_uploaded(page, sign_in, tmp_path):
    sign_in(page, "engineer")
    page.get_by_role("link", name="Stack member reboots under multicast load").click()
    page.wait_for_load_state()
    page.evaluate("window.stillTheSamePage = true")
    action_plan = item(page, "action_plan").get_by_label("Your answer")
    action_plan.fill("Draft: ask GTAC whether")
    item(page, "customer_informed").get_by_label(re.compile("^I confirm")).check()
    item(page, "problem_duplicated").get_by_label("No", exact=True).check()
    item(page, "problem_duplicated").get_by_label(re.compile("^Reason")).fill("Only with the customer's traffic.")
    note = page.get_by_role("form", name="Escalate to GTAC").get_by_label(re.compile("^Note for GTAC"))
    note.fill("Please look at the IGMP table.")
    readiness = page.locator("#readiness")
    expect(readiness.get_by_role("link", name=re.compile("^Item 4: Problem isolation done"))).to_be_visible()

    item(page, "problem_isolation").get_by_label("Your answer").fill(TEXT_ANSWERS["problem_isolation"])
    with page.expect_response(lambda r: r.request.method == "POST"):
        item(page, "problem_isolation").get_by_role("button", name="Save").click()
    expect(item(page, "problem_isolation").locator(".item-status")).to_contain_text("Met")
    # The readiness panel follows the save; everything else stays as it was typed.
    expect(readiness.get_by_role("link", name=re.compile("^Item 4: Problem isolation done"))).to_have_count(0)
    expect(action_plan).to_have_value("Draft: ask GTAC whether")
    expect(item(page, "customer_informed").get_by_label(re.compile("^I confirm"))).to_be_checked()
    expect(item(page, "problem_duplicated").get_by_label("No", exact=True)).to_be_checked()
    expect(item(page, "problem_duplicated").get_by_label(re.compile("^Reason"))).to_have_value(
        "Only with the customer's traffic.")
    expect(note).to_have_value("Please look at the IGMP table.")

    # An upload refreshes the checklist too, and keeps the same answers.
    log = tmp_path / "mcmgr.log"
    log.write_bytes(LOG_TEXT)
    uploads = page.locator("#upload-form")
    uploads.get_by_label("Kind").select_option("error_log")
    uploads.get_by_label("File", exact=True).set_input_files(log)
    uploads.get_by_role("button", name="Upload").click()
    expect(uploads.get_by_role("status")).to_contain_text("Uploaded mcmgr.log")
    expect(item(page, "logs_gathered").get_by_label(re.compile(r"^mcmgr\.log"))).to_be_visible()
    expect(action_plan).to_have_value("Draft: ask GTAC whether")
    expect(item(page, "customer_informed").get_by_label(re.compile("^I confirm"))).to_be_checked()
    expect(note).to_have_value("Please look at the IGMP table.")
    assert page.evaluate("window.stillTheSamePage") is True
    assert_usable(page, "a case page with unsaved answers")


def test_a_refused_escalation_brings_back_the_answers_typed_but_not_saved(page, sign_in):
    sign_in(page, "engineer")
    page.get_by_role("link", name="Stack member reboots under multicast load").click()
    page.wait_for_load_state()  # drafts.js (deferred) keeps typing only once it has run
    action_plan = item(page, "action_plan").get_by_label("Your answer")
    action_plan.fill("Draft: ask GTAC whether")
    escalate = page.get_by_role("form", name="Escalate to GTAC")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        escalate.get_by_role("button", name="Escalate to GTAC").click()
    assert answer.value.status == 422
    expect(page.locator("#refusal")).to_be_visible()
    expect(item(page, "action_plan").get_by_label("Your answer")).to_have_value("Draft: ask GTAC whether")
    expect(item(page, "action_plan")).to_contain_text("Not sent yet")


def test_ticks_and_choices_not_saved_come_back_after_another_form_reloads_the_page(page, sign_in):
    sign_in(page, "engineer")
    page.get_by_role("link", name="Stack member reboots under multicast load").click()
    page.wait_for_load_state()  # drafts.js (deferred) keeps choices only once it has run
    item(page, "customer_informed").get_by_label(re.compile("^I confirm")).check()
    item(page, "problem_duplicated").get_by_label("No", exact=True).check()
    item(page, "lab_simulation").get_by_label("Does not apply to this case").check()

    # Changing the severity reloads the whole page.
    details = page.get_by_role("region", name="Details")
    details.get_by_label("Severity").select_option("S1")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        details.get_by_role("button", name="Change severity").click()
    assert answer.value.status == 303
    page.wait_for_load_state()
    expect(page.get_by_role("status").filter(has_text="Severity")).to_contain_text("Severity is now S1.")

    expect(item(page, "customer_informed").get_by_label(re.compile("^I confirm"))).to_be_checked()
    expect(item(page, "problem_duplicated").get_by_label("No", exact=True)).to_be_checked()
    expect(item(page, "problem_duplicated")).to_contain_text("Not sent yet")
    lab = item(page, "lab_simulation")
    expect(lab.get_by_label("Does not apply to this case")).to_be_checked()
    expect(lab.get_by_label("Why it does not apply")).to_be_visible()  # the reason shows, as when ticked
    # Saving an item forgets its kept choice, and only its.
    save_item = item(page, "customer_informed").get_by_role("button", name="Save")
    with page.expect_response(lambda r: r.request.method == "POST"):
        save_item.click()
    expect(item(page, "customer_informed").locator(".item-status")).to_contain_text("Met")
    page.reload()
    page.wait_for_load_state()
    expect(item(page, "problem_duplicated").get_by_label("No", exact=True)).to_be_checked()
    expect(item(page, "customer_informed")).not_to_contain_text("Not sent yet")
    assert_usable(page, "a case page with kept choices")


def test_a_save_that_cannot_reach_the_server_keeps_the_answer_and_says_so(page, sign_in):
    sign_in(page, "engineer")
    page.get_by_role("link", name="Stack member reboots under multicast load").click()
    page.wait_for_load_state()
    page.route("**/checklist/action_plan", lambda route: route.abort())
    plan = item(page, "action_plan")
    plan.get_by_label("Your answer").fill(TEXT_ANSWERS["action_plan"])
    plan.get_by_role("button", name="Save").click()

    expect(plan.get_by_role("alert")).to_have_text(
        "Not saved: the connection failed. Your answer is still here; try again.")
    expect(plan.get_by_label("Your answer")).to_have_value(TEXT_ANSWERS["action_plan"])
    page.unroute("**/checklist/action_plan")
    plan.get_by_role("button", name="Save").click()
    expect(plan.locator(".item-status")).to_contain_text("Met")


def test_without_javascript_the_checklist_is_one_form_and_no_answer_typed_is_lost(page_without_js, sign_in):
    page = page_without_js
    sign_in(page, "engineer")
    page.get_by_role("link", name="Stack member reboots under multicast load").click()
    page.wait_for_load_state()
    progress = page.locator("label[for=checklist-progress]")
    met_before = progress.inner_text()
    item(page, "customer_informed").get_by_label(re.compile("^I confirm")).check()
    item(page, "problem_isolation").get_by_label("Your answer").fill(TEXT_ANSWERS["problem_isolation"])
    item(page, "action_plan").get_by_label("Your answer").fill(TEXT_ANSWERS["action_plan"])
    lab = item(page, "lab_simulation")
    lab.get_by_label("Does not apply to this case").check()
    lab.get_by_label("Why it does not apply").fill("No lab kit of this model.")
    # A reason without a choice: this item is refused, so nothing at all is saved.
    duplicated = item(page, "problem_duplicated")
    duplicated.get_by_label(re.compile("^Reason")).fill("Only with the customer's traffic.")

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        item(page, "action_plan").get_by_role("button", name="Save").click()
    assert answer.value.status == 400
    page.wait_for_load_state()
    expect(page.locator("#checklist-error")).to_contain_text("Nothing was saved: 1 answer needs a change first")
    expect(duplicated.get_by_role("alert")).to_have_text("Choose an answer, then save.")
    expect(page.locator("li.item [role=alert]")).to_have_count(1)
    expect(progress).to_have_text(met_before)
    expect(item(page, "customer_informed").get_by_label(re.compile("^I confirm"))).to_be_checked()
    expect(item(page, "problem_isolation").get_by_label("Your answer")).to_have_value(TEXT_ANSWERS["problem_isolation"])
    expect(item(page, "action_plan").get_by_label("Your answer")).to_have_value(TEXT_ANSWERS["action_plan"])
    expect(lab.get_by_label("Does not apply to this case")).to_be_checked()
    expect(lab.get_by_label("Why it does not apply")).to_have_value("No lab kit of this model.")
    expect(duplicated.get_by_label(re.compile("^Reason"))).to_have_value("Only with the customer's traffic.")

    # Put right, one press saves every item together.
    duplicated.get_by_label("No", exact=True).check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save all answers").click()
    assert answer.value.status == 303
    page.wait_for_load_state()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_contain_text("Saved 5 answers.")
    for code in ("customer_informed", "problem_isolation", "action_plan", "lab_simulation", "problem_duplicated"):
        expect(item(page, code).locator(".item-status")).to_contain_text("Met")
    expect(lab).to_contain_text("Does not apply: No lab kit of this model.")


def escalated(client, tokens) -> tuple[str, int]:
    """A case of the engineer's escalated to GTAC: its SR number and case id."""
    number = escalate(client, tokens, title="Uplink flaps after the upgrade")
    return number, get_sr(client, tokens["gtac"], number)["case_id"]


def test_the_sr_box_on_the_partners_case_page_follows_gtac_without_a_reload(page, sign_in, client, tokens):
    number, case_id = escalated(client, tokens)
    sign_in(page, "engineer")
    page.goto(f"/cases/{case_id}")
    page.wait_for_load_state()
    page.evaluate("window.stillTheSamePage = true")
    box = page.get_by_role("region", name="GTAC service request")
    expect(box.locator("#sr-status")).to_have_text("New")
    expect(box).to_contain_text("Initial response due")

    assert move(client, tokens["gtac"], number, "assigned").status_code == 200
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    assert move(client, tokens["gtac"], number, "awaiting_partner", note="Which optic is in 1:49?").status_code == 200

    expect(box.locator("#sr-status")).to_have_text("Awaiting partner")
    expect(box).to_contain_text("Waiting for you")
    expect(box).not_to_contain_text("Next update due")
    # What GTAC asked, where the page says it waits on the partner; the answer goes on the GTAC thread.
    expect(box.locator("#gtac-asked")).to_have_text("Which optic is in 1:49?")
    expect(box.get_by_role("link", name="the GTAC thread")).to_have_attribute("href", "#thread-gtac")
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    assert move(client, tokens["gtac"], number, "solution_provided", note="Try it in the next window",
                solution={"kind": "workaround", "content": "Disable autonegotiation on port 1:49."}).status_code == 200
    expect(box.locator("#sr-status")).to_have_text("Solution provided")
    expect(box.locator("#gtac-asked")).to_have_count(0)
    expect(box.locator("#gtac-solution")).to_have_text("Disable autonegotiation on port 1:49.")
    expect(box).to_contain_text("Solution (workaround)")
    expect(box).to_contain_text("Try it in the next window")
    assert page.evaluate("window.stillTheSamePage") is True
    assert_usable(page)


def test_what_gtac_does_while_the_case_page_loads_still_reaches_its_sr_box(page, sign_in, client, tokens):
    number, case_id = escalated(client, tokens)
    sign_in(page, "engineer")
    with streams_held(page) as held:
        page.goto(f"/cases/{case_id}")
        page.wait_for_load_state()
        expect(page.locator("#sr-status")).to_have_text("New")
        wait_for_streams(page, held)
        # Drawn as New, its stream not yet connected: GTAC answers now.
        assert move(client, tokens["gtac"], number, "assigned").status_code == 200
        assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    expect(page.locator("#sr-status")).to_have_text("In progress")


def test_a_case_page_whose_live_updates_are_refused_says_so(app, page, client, tokens, monkeypatch):
    _, case_id = escalated(client, tokens)
    notice = opened_with_live_updates_refused(app, page, monkeypatch, f"/cases/{case_id}")
    expect(notice).to_contain_text("Live updates have stopped on this page")
    expect(notice.get_by_role("link", name="Reload")).to_have_attribute("href", re.compile(rf"/cases/{case_id}$"))
