"""A partner engineer takes a case from opening to a GTAC SR number through the case page, in a real browser."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.case_helpers import LOG_TEXT, TEXT_ANSWERS
from tests.cases.test_case_pages import fill_case, submit

pytestmark = pytest.mark.browser


def item(page, code: str):
    return page.locator(f"#item-{code}")


def progress(page):
    return page.locator("label[for=checklist-progress]")


def save(page, code: str, expected_status: str = "Met"):
    """Save one item's form and wait for the page to show the item's new status."""
    answer = submit_in(page, item(page, code), "Save")
    assert answer.status == 303, (code, answer.status)
    expect(item(page, code).locator(".item-status")).to_contain_text(expected_status)


def submit_in(page, scope, button: str):
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        scope.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    return answer.value


def answer_text(page, code: str):
    item(page, code).get_by_label("Your answer").fill(TEXT_ANSWERS[code])
    save(page, code)


def test_engineer_completes_the_checklist_and_escalates_to_gtac(page, sign_in, artifacts, tmp_path):
    sign_in(page, "engineer")
    page.goto("/cases/new")
    fill_case(page, "ACME-0003", "S2", "Stack node reboots when many multicast groups join",
              "A stack node reboots every evening: mcmgr not responding, then the process watchdog "
              "reboots it. The IGMP snooping group table looks full when it happens.")
    assert submit(page, "Open case").status == 303
    case_path = re.search(r"/cases/\d+$", page.url).group(0)

    checklist = page.get_by_role("region", name="GTAC checklist")
    expect(progress(page)).to_have_text("0 of 12 required items met")

    # At once: refused, with every reason, and the open items marked.
    answer = submit_in(page, page.get_by_role("form", name="Escalate to GTAC"), "Escalate to GTAC")
    assert answer.status == 422
    refusal = checklist.get_by_role("alert").filter(has_text="Not escalated")
    expect(refusal).to_contain_text("12 reasons")
    expect(refusal.get_by_role("listitem")).to_have_count(12)
    expect(refusal.get_by_role("link", name="Action plan defined: Not answered yet.")).to_be_visible()
    expect(item(page, "action_plan")).to_contain_text("Blocks escalation")
    checklist.screenshot(path=str(artifacts / "case-checklist-refused.png"))
    page.goto(case_path)

    item(page, "customer_informed").get_by_label(re.compile("^I confirm")).check()
    save(page, "customer_informed")
    expect(progress(page)).to_have_text("1 of 12 required items met")
    for code in ("scope_what", "scope_when", "scope_how", "problem_isolation"):
        answer_text(page, code)

    # The upload goes by XMLHttpRequest with a progress bar: the page is not reloaded,
    # and an answer typed but not saved yet is still there afterwards.
    page.evaluate("window.stillTheSamePage = true")
    item(page, "action_plan").get_by_label("Your answer").fill("Draft: ask GTAC about")
    log = tmp_path / "error.log"
    log.write_bytes(LOG_TEXT * 2000)
    uploads = page.locator("#upload-form")
    uploads.get_by_label("Kind").select_option("error_log")
    uploads.get_by_label("File", exact=True).set_input_files(log)
    uploads.get_by_role("button", name="Upload").click()
    expect(uploads.get_by_role("status")).to_contain_text("Uploaded error.log")
    bar = uploads.locator("progress")
    expect(bar).to_be_visible()
    assert bar.evaluate("bar => bar.value === bar.max")
    expect(page.locator("#attachment-list").get_by_role("link", name="error.log")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True
    expect(item(page, "action_plan").get_by_label("Your answer")).to_have_value("Draft: ask GTAC about")
    item(page, "logs_gathered").get_by_label(re.compile(r"^error\.log")).check()
    save(page, "logs_gathered")

    # Triage suggests known anomalies of EXOS 32.6.1.4 like this case: one ruling on each.
    notes = item(page, "release_notes_reviewed")
    igmp = notes.get_by_role("group", name=re.compile("^EXOS-31207 · Stack node reboots"))
    expect(igmp).to_contain_text("fixed in 32.6.2.1")
    igmp.get_by_label("Matches this case").check()
    others = notes.get_by_role("group").filter(has_not_text="EXOS-31207")
    for index in range(others.count()):
        others.nth(index).get_by_label("Not relevant").check()
    save(page, "release_notes_reviewed")
    expect(item(page, "release_notes_reviewed")).to_contain_text("EXOS-31207: matches this case")

    # "Does not apply" swaps the answer for the reason.
    specifications = item(page, "specifications_checked")
    specifications.get_by_label("Does not apply to this case").check()
    expect(specifications.get_by_label("Your answer")).to_be_hidden()
    specifications.get_by_label("Why it does not apply").fill("The customer's design is a documented, supported one.")
    save(page, "specifications_checked")
    expect(item(page, "specifications_checked")).to_contain_text("Does not apply: The customer's design")

    answer_text(page, "lab_simulation")

    duplicated = item(page, "problem_duplicated")
    duplicated.get_by_label("No", exact=True).check()
    save(page, "problem_duplicated", expected_status="This answer needs a reason.")
    duplicated = item(page, "problem_duplicated")
    duplicated.get_by_label(re.compile("^Reason")).fill("Only happens with the customer's traffic mix.")
    save(page, "problem_duplicated")

    answer_text(page, "action_plan")
    typed = item(page, "logs_analysed").get_by_label("Your answer")
    typed.fill("Too short")
    expect(item(page, "logs_analysed").locator("[data-counter]")).to_contain_text("21 to go")
    answer_text(page, "logs_analysed")

    expect(progress(page)).to_have_text("12 of 12 required items met")
    page.locator("#checklist").screenshot(path=str(artifacts / "case-checklist-complete.png"))
    escalate = page.get_by_role("form", name="Escalate to GTAC")
    escalate.get_by_label(re.compile("^Note for GTAC")).fill("Flaps follow the port; please check for a known defect.")
    assert submit_in(page, escalate, "Escalate to GTAC").status == 303

    service_request = page.get_by_role("region", name="GTAC service request")
    expect(service_request.locator("#sr-number")).to_have_text(re.compile(r"^SR\d{8}$"))
    expect(service_request).to_be_in_viewport()
    number = service_request.locator("#sr-number").inner_text()
    expect(page.get_by_role("status").filter(has_text="Escalated to GTAC")).to_contain_text(number)
    expect(service_request).to_contain_text("Queue")
    expect(service_request).to_contain_text("Initial response due")
    expect(page.get_by_role("form", name="Escalate to GTAC")).to_have_count(0)
    expect(page.get_by_role("region", name="Messages with GTAC")).to_contain_text("Flaps follow the port")
    page.screenshot(path=str(artifacts / "case-escalated.png"))


def test_upload_and_checklist_forms_work_without_javascript(page_without_js, sign_in, tmp_path):
    page = page_without_js
    sign_in(page, "engineer")
    page.get_by_role("link", name="Stack member reboots under multicast load").click()

    # Both the answer and the reason are on show: the server takes whichever is chosen.
    lab = item(page, "lab_simulation")
    expect(lab.get_by_label("Your answer")).to_be_visible()
    lab.get_by_label("Does not apply to this case").check()
    lab.get_by_label("Why it does not apply").fill("We have no stack of this model in the lab.")
    save(page, "lab_simulation")

    log = tmp_path / "mcmgr.log"
    log.write_bytes(LOG_TEXT)
    uploads = page.locator("#upload-form")
    uploads.get_by_label("Kind").select_option("error_log")
    uploads.get_by_label("File", exact=True).set_input_files(log)
    answer = submit_in(page, uploads, "Upload")

    assert answer.status == 303
    expect(page).to_have_url(re.compile(r"/cases/\d+#attachments$"))
    expect(page.get_by_role("status").filter(has_text="Uploaded mcmgr.log")).to_be_visible()
    expect(page.locator("#attachment-list").get_by_role("link", name="mcmgr.log")).to_be_visible()
    expect(item(page, "logs_gathered").get_by_label(re.compile(r"^mcmgr\.log"))).to_be_visible()


def test_saving_one_checklist_item_keeps_what_was_typed_in_another(page, sign_in):
    from tests.cases.test_case_pages import SEEDED_S2

    sign_in(page, "engineer")
    page.get_by_role("link", name=SEEDED_S2).click()
    page.wait_for_load_state()  # case.js (deferred) saves items in place only once it has run
    page.evaluate("window.stillTheSamePage = true")
    item(page, "lab_simulation").get_by_label("Your answer").fill(TEXT_ANSWERS["lab_simulation"])
    item(page, "problem_duplicated").get_by_label("No", exact=True).check()
    answer_text(page, "problem_isolation")  # saved in place: the page is not reloaded
    assert page.evaluate("window.stillTheSamePage") is True
    expect(item(page, "lab_simulation").get_by_label("Your answer")).to_have_value(TEXT_ANSWERS["lab_simulation"])
    expect(item(page, "problem_duplicated").get_by_label("No", exact=True)).to_be_checked()
    save(page, "lab_simulation")
    expect(item(page, "problem_duplicated").get_by_label("No", exact=True)).to_be_checked()
