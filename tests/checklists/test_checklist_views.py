"""The checklist and escalation on the case page, driven through the forms without a browser."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.checklists.models import ChecklistResponse
from app.idempotency.models import IdempotencyRecord
from app.srs.models import ServiceRequest
from app.extensions import db
from app.outbox.models import OutboxEvent
from tests.case_helpers import TEXT_ANSWERS, complete_checklist, new_case, upload
from tests.web.helpers import count, sign_in, text

APPLICABLE = ["customer_informed", "scope_what", "scope_when", "scope_how", "logs_gathered",
              "problem_isolation", "release_notes_reviewed", "specifications_checked", "lab_simulation",
              "problem_duplicated", "action_plan", "logs_analysed"]


def quiet_case(client, headers) -> dict:
    """A case on a release that no imported release notes speak of: item 5 is a plain attestation
    (test_suggested_known_anomalies_are_ruled_on_one_by_one covers the rulings)."""
    return new_case(client, headers, software_version="16.2.1.1")


def page(client, case_id) -> str:
    answer = client.get(f"/cases/{case_id}")
    assert answer.status_code == 200
    return text(answer)


def item_block(html: str, code: str) -> str:
    """The <li> of one checklist item."""
    match = re.search(rf'<li class="item[^"]*" id="item-{code}">(.*?)</li>\s*(?=<li class="item|</ol>)', html, re.S)
    assert match, f"item {code} not on the page"
    return match.group(1)


def escalation_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


def answer_item(client, token, case_id, code, **fields):
    """Save one item as the page's script does: the checklist form, sent to the item's address."""
    return client.post(f"/cases/{case_id}/checklist/{code}",
                       data={"csrf_token": token, **{f"{code}.{name}": value for name, value in fields.items()}})


def writes(app) -> tuple[int, ...]:
    return tuple(count(app, model) for model in (ChecklistResponse, AuditEvent, ServiceRequest,
                                                 IdempotencyRecord, OutboxEvent))


def test_the_partners_case_page_shows_every_item_with_a_form_and_the_escalate_button(client, tokens):
    case = quiet_case(client, tokens["engineer"])
    sign_in(client, "engineer")
    html = page(client, case["id"])

    assert "0 of 12 required items met" in html
    assert '<progress id="checklist-progress" max="12" value="0">' in html
    for code in APPLICABLE:
        block = item_block(html, code)
        # The logs item has nothing to choose, hence no Save, until a log is uploaded.
        assert (f'data-item-action="/cases/{case["id"]}/checklist/{code}#item-{code}"' in block) is (
            code != "logs_gathered")
        controls = re.findall(rf'<(?:input|textarea)[^>]*name="{code}\.[^>]*>', block)
        assert controls and all('form="checklist-form"' in control for control in controls)
    assert "At least 30 characters." in item_block(html, "scope_what")
    assert 'name="problem_duplicated.value" value="yes"' in item_block(html, "problem_duplicated")
    assert "Does not apply to this case" in item_block(html, "lab_simulation")
    assert "Does not apply to this case" not in item_block(html, "action_plan")
    assert "No error log or support bundle is attached to this case yet" in item_block(html, "logs_gathered")
    assert "I reviewed the release notes of EXOS 16.2.1.1" in item_block(html, "release_notes_reviewed")
    assert "4 items do not apply to this case" in html  # crash artefacts and the three RMA items
    assert "Escalate to GTAC" in html and escalation_key(html)
    forms = re.findall(r'<form method="post".*?</form>', html, re.S)
    # One form for the whole checklist, the escalation and the upload.
    assert len(re.findall(r'<form method="post" id="checklist-form"', html)) == 1
    assert all('name="csrf_token"' in form for form in forms)


def test_each_kind_of_item_is_answered_through_its_form(app, client, tokens):
    case = quiet_case(client, tokens["engineer"])
    case_id = case["id"]
    uploaded = upload(client, tokens["engineer"], case_id).json
    token = sign_in(client, "engineer")

    answers = {
        "customer_informed": {"kind": "attestation", "value": "true"},
        "scope_what": {"kind": "text", "value": TEXT_ANSWERS["scope_what"] + "\r\nSecond line."},
        "logs_gathered": {"kind": "attachments", "attachment_id": str(uploaded["id"])},
        "release_notes_reviewed": {"kind": "triage_ruling", "value": "true"},
        "lab_simulation": {"kind": "text", "value": "", "not_applicable": "1",
                           "not_applicable_reason": "No lab hardware of this model."},
        "problem_duplicated": {"kind": "choice", "value": "no", "reason": "Happens only at the customer's site."},
    }
    for code, fields in answers.items():
        answer = answer_item(client, token, case_id, code, **fields)
        assert answer.status_code == 303, (code, text(answer))
        assert answer.headers["Location"].endswith(f"/cases/{case_id}#item-{code}")

    items = {i["code"]: i for i in client.get(f"/api/v1/cases/{case_id}/checklist",
                                              headers=tokens["engineer"]).json["items"]}
    assert all(items[code]["met"] for code in answers), {c: items[c]["reason"] for c in answers}
    assert items["scope_what"]["response"]["value"].endswith("users lose sessions.\nSecond line.")
    assert items["lab_simulation"]["response"]["not_applicable"] is True
    assert items["problem_duplicated"]["response"]["reason"] == "Happens only at the customer's site."
    html = page(client, case_id)
    assert "6 of 12 required items met" in html
    assert "Does not apply: No lab hardware of this model." in item_block(html, "lab_simulation")
    assert "error.log" in item_block(html, "logs_gathered")
    assert "Answer saved." in html


def test_a_short_text_is_kept_and_the_item_says_what_is_missing(client, tokens):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    assert answer_item(client, token, case["id"], "action_plan", kind="text", value="Call GTAC.").status_code == 303

    block = item_block(page(client, case["id"]), "action_plan")
    assert "The answer is shorter than the 30 characters required." in block
    assert ">Call GTAC.</textarea>" in block


@pytest.mark.parametrize("code, fields, status, shown", [
    ("customer_informed", {"kind": "attestation"}, 400, "Tick the box to confirm, then save."),
    ("scope_what", {"kind": "text", "value": "  \r\n "}, 400, "Write your answer, then save."),
    ("problem_duplicated", {"kind": "choice"}, 400, "Choose an answer, then save."),
    ("problem_duplicated", {"kind": "choice", "value": "maybe"}, 400, "takes one of yes, no"),
    ("specifications_checked", {"kind": "text", "not_applicable": "1", "not_applicable_reason": "n/a"},
     400, "Say in at least 10 characters why the item does not apply."),
    ("logs_gathered", {"kind": "attachments"}, 400, "Choose at least one attachment, then save."),
    ("logs_gathered", {"kind": "attachments", "attachment_id": "1; drop"}, 400, "Choose attachments from the list."),
    ("logs_gathered", {"kind": "attachments", "attachment_id": "999999"}, 422, "These attachments are not on this case."),
    ("customer_informed", {"kind": "attestation", "not_applicable": "1",
                           "not_applicable_reason": "The customer already knows us."},
     422, "Item 1 (customer_informed) cannot be marked not applicable."),
    ("release_notes_reviewed", {"kind": "triage_ruling", "ruling:EXOS-1": "matches"},
     422, "These anomalies are not suggested for this case."),
    ("action_plan", {"kind": "sonnet", "value": "x"}, 400, "does not say which kind of item it answers"),
])
def test_bad_answers_are_refused_next_to_their_item_and_nothing_is_written(app, client, tokens, code, fields,
                                                                          status, shown):
    case = quiet_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    before = writes(app)

    answer = answer_item(client, token, case["id"], code, **fields)

    assert answer.status_code == status
    block = item_block(text(answer), code)
    assert re.search(rf'<p class="field-error" role="alert" id="item-{code}-error">[^<]*{re.escape(shown)}', block)
    assert writes(app) == before


def test_a_refused_answer_keeps_what_was_typed(client, tokens):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    answer = answer_item(client, token, case["id"], "lab_simulation", kind="text", value="Tried in the lab",
                         not_applicable="1", not_applicable_reason="short")

    block = item_block(text(answer), "lab_simulation")
    assert ">short</textarea>" in block
    assert 'name="lab_simulation.not_applicable" value="1" data-na-toggle checked' in block


def test_an_unknown_item_is_a_404_page(client, tokens):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    answer = answer_item(client, token, case["id"], "no_such_item", kind="attestation", value="true")
    assert answer.status_code == 404
    assert "has no item &#39;no_such_item&#39;" in text(answer)


def test_checklist_and_escalation_forms_need_a_csrf_token(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    complete_checklist(client, tokens["engineer"], case["id"])
    sign_in(client, "engineer")
    key = escalation_key(page(client, case["id"]))
    before = writes(app)

    answered = client.post(f"/cases/{case['id']}/checklist/action_plan",
                           data={"action_plan.kind": "text", "action_plan.value": TEXT_ANSWERS["action_plan"]})
    escalated = client.post(f"/cases/{case['id']}/escalation", data={"idempotency_key": key})
    forged = client.post(f"/cases/{case['id']}/escalation", data={"idempotency_key": key, "csrf_token": "forged"})

    assert (answered.status_code, escalated.status_code, forged.status_code) == (400, 400, 400)
    assert "CSRF token is missing" in text(answered) and "CSRF token is missing" in text(escalated)
    assert "CSRF token is invalid" in text(forged)
    assert writes(app) == before


def test_customers_see_no_checklist_and_may_neither_answer_nor_escalate(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "customer")
    html = page(client, case["id"])
    assert "GTAC checklist" not in html and "Escalate to GTAC" not in html and "idempotency_key" not in html
    assert 'id="upload-form"' in html  # customers do attach files
    before = writes(app)

    answered = answer_item(client, token, case["id"], "customer_informed", kind="attestation", value="true")
    escalated = client.post(f"/cases/{case['id']}/escalation", data={"csrf_token": token, "idempotency_key": "k1"})

    assert answered.status_code == 403 and escalated.status_code == 403
    assert "may not do this" in text(answered)
    assert writes(app) == before


def test_another_partners_case_is_not_found(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "contoso")
    before = writes(app)

    answered = answer_item(client, token, case["id"], "customer_informed", kind="attestation", value="true")
    escalated = client.post(f"/cases/{case['id']}/escalation", data={"csrf_token": token, "idempotency_key": "k1"})
    viewed = client.get(f"/cases/{case['id']}")

    assert (answered.status_code, escalated.status_code, viewed.status_code) == (404, 404, 404)
    assert case["title"] not in text(answered) + text(escalated) + text(viewed)
    assert writes(app) == before


def test_a_refused_escalation_lists_every_reason_marks_the_items_and_writes_nothing(app, client, tokens):
    # Contoso is a PW partner and its engineer's VOSS certification has expired.
    case = new_case(client, tokens["contoso"], serial_number="FAB-0002", severity="S2")
    token = sign_in(client, "contoso")
    assert answer_item(client, token, case["id"], "customer_informed", kind="attestation", value="true").status_code == 303
    html = page(client, case["id"])
    before = writes(app)

    answer = client.post(f"/cases/{case['id']}/escalation",
                         data={"csrf_token": token, "idempotency_key": escalation_key(html), "note": "Please hurry."})

    assert answer.status_code == 422
    html = text(answer)
    refusal = re.search(r'<div class="refusal" role="alert".*?</div>', html, re.S).group(0)
    assert "PartnerWorks partners may escalate S1 cases only." in refusal
    assert "Your VOSS certification expired on" in refusal
    assert '<a href="#item-scope_what">Scope: what happens: Not answered yet.</a>' in refusal
    assert "#item-customer_informed" not in refusal
    assert "13 reasons:" in refusal  # the tier, the certification and 11 open items
    assert "Blocks escalation" in item_block(html, "action_plan")
    assert "Blocks escalation" not in item_block(html, "customer_informed")
    assert ">Please hurry.</textarea>" in html
    assert writes(app) == before
    assert client.get(f"/api/v1/cases/{case['id']}", headers=tokens["contoso"]).json["status"] == "open"


def test_escalation_shows_the_sr_and_a_double_submit_yields_one_sr(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    complete_checklist(client, tokens["engineer"], case["id"])
    token = sign_in(client, "engineer")
    html = page(client, case["id"])
    assert "12 of 12 required items met" in html
    form = {"csrf_token": token, "idempotency_key": escalation_key(html), "note": "Core file attached."}

    first = client.post(f"/cases/{case['id']}/escalation", data=form)
    second = client.post(f"/cases/{case['id']}/escalation", data=form)

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"].endswith(f"/cases/{case['id']}#main")
    assert count(app, ServiceRequest) == 1
    with app.app_context():
        service_request = db.session.scalars(sa.select(ServiceRequest)).one()
        number, queue = service_request.number, service_request.queue
    html = page(client, case["id"])
    assert re.search(r'<a class="mono" id="sr-number" href="/srs/SR\d{8}">SR\d{8}</a>', html)
    assert f'id="sr-number" href="/srs/{number}">{number}<' in html and queue in html
    assert "Initial response due" in html and "Next update due" in html
    assert html.count(f"Escalated to GTAC as {number}") == 2  # both submits answered with the same SR
    assert 'name="idempotency_key"' not in html and 'class="item-form"' not in html  # the checklist is closed

    other_key = client.post(f"/cases/{case['id']}/escalation", data={**form, "idempotency_key": "another-key"})
    assert other_key.status_code == 409
    assert "The case has already been escalated." in text(other_key)
    assert count(app, ServiceRequest) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256])
def test_an_escalation_form_without_a_valid_key_is_refused(app, client, tokens, key):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    answer = client.post(f"/cases/{case['id']}/escalation", data={"csrf_token": token, "idempotency_key": key})
    assert answer.status_code == 400
    assert "This form is incomplete; reload the page and try again." in text(answer)
    assert count(app, ServiceRequest) == 0


def test_gtac_reads_the_checklist_of_an_escalated_case_without_forms(client, tokens):
    case = new_case(client, tokens["engineer"])
    complete_checklist(client, tokens["engineer"], case["id"])
    assert client.post(f"/api/v1/cases/{case['id']}/escalation", json={},
                       headers=tokens["engineer"]).status_code == 201
    sign_in(client, "gtac")
    html = page(client, case["id"])

    assert "12 of 12 required items met" in html
    assert TEXT_ANSWERS["action_plan"] in item_block(html, "action_plan")
    assert 'class="item-form"' not in html and 'id="upload-form"' not in html
    assert re.search(r'id="sr-number" href="/srs/SR\d{8}">SR\d{8}<', html)


def test_suggested_known_anomalies_are_ruled_on_one_by_one(app, client, tokens):
    case = new_case(client, tokens["engineer"], serial_number="ACME-0002",
                    title="Stack node reboots and snmpMaster memory keeps growing",
                    description="A stack node reboots when the IGMP snooping group table is full: mcmgr "
                                "not responding. Separately snmpMaster memory grows every day while our "
                                "monitoring polls ifXTable with SNMPv3 GETBULK.")
    token = sign_in(client, "engineer")
    block = item_block(page(client, case["id"]), "release_notes_reviewed")
    suggested = re.findall(r'name="release_notes_reviewed.ruling:([^"]+)" value="matches"', block)
    assert {"EXOS-31207", "EXOS-31322"} <= set(suggested)
    assert "Stack node reboots when the IGMP snooping group table is exhausted" in block
    assert "I reviewed the release notes" not in block

    partial = answer_item(client, token, case["id"], "release_notes_reviewed", kind="triage_ruling",
                          suggestions=str(len(suggested)), **{"ruling:EXOS-31207": "matches"})
    assert partial.status_code == 303
    block = item_block(page(client, case["id"]), "release_notes_reviewed")
    assert "Rule on every suggested known anomaly" in block and "EXOS-31322" in block
    rulings = {f"ruling:{anomaly}": "not_relevant" for anomaly in suggested if anomaly != "EXOS-31207"}
    answer = answer_item(client, token, case["id"], "release_notes_reviewed", kind="triage_ruling",
                         suggestions=str(len(suggested)), **{"ruling:EXOS-31207": "matches"}, **rulings)

    assert answer.status_code == 303
    block = item_block(page(client, case["id"]), "release_notes_reviewed")
    assert '<span class="ok">Met</span>' in block
    assert "EXOS-31207</span>: matches this case" in block
    assert 'name="release_notes_reviewed.ruling:EXOS-31207" value="matches" checked' in block
    none_chosen = answer_item(client, token, case["id"], "release_notes_reviewed", kind="triage_ruling",
                              suggestions=str(len(suggested)))
    assert none_chosen.status_code == 400
    assert "Rule on the suggested known anomalies, then save." in text(none_chosen)


@pytest.mark.parametrize("path, anchor", [
    ("/checklist/action_plan", "#item-action_plan"), ("/escalation", "#checklist"), ("/attachments", "#attachments"),
])
def test_the_address_a_refusal_was_shown_at_leads_back_to_the_case_page(client, tokens, path, anchor):
    case = new_case(client, tokens["engineer"])
    sign_in(client, "engineer")
    answer = client.get(f"/cases/{case['id']}{path}")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/cases/{case['id']}{anchor}"


def test_an_escalated_cases_checklist_takes_no_more_answers(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    complete_checklist(client, tokens["engineer"], case["id"])
    assert client.post(f"/api/v1/cases/{case['id']}/escalation", json={},
                       headers=tokens["engineer"]).status_code == 201
    token = sign_in(client, "engineer")
    before = writes(app)

    answer = answer_item(client, token, case["id"], "action_plan", kind="text", value="Changed my mind entirely.")

    assert answer.status_code == 409
    block = item_block(text(answer), "action_plan")
    assert "The checklist is closed once the case has left the open state." in block
    assert 'class="item-form"' not in block
    assert writes(app) == before


def whole_form(html: str, **answers: str) -> dict:
    """The checklist form as a browser without scripts sends it: every item's kind, and the answers
    given as "<item>.<field>"; every other item left blank."""
    kinds = dict(re.findall(r'name="([a-z_]+)\.kind" value="([a-z_]+)"', html))
    assert set(APPLICABLE) <= set(kinds)
    return {**{f"{code}.kind": kind for code, kind in kinds.items()},
            **{name.replace("__", "."): value for name, value in answers.items()}}


def test_the_whole_checklist_form_saves_every_answered_item_together(app, client, tokens):
    case = quiet_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    form = whole_form(page(client, case["id"]), customer_informed__value="true",
                      scope_what__value=TEXT_ANSWERS["scope_what"],
                      problem_duplicated__value="no", problem_duplicated__reason="Only at the customer's site.")
    audit_before = count(app, AuditEvent)

    answer = client.post(f"/cases/{case['id']}/checklist", data={"csrf_token": token, "save": "scope_what", **form})

    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/cases/{case['id']}#item-scope_what")
    items = {i["code"]: i for i in client.get(f"/api/v1/cases/{case['id']}/checklist",
                                              headers=tokens["engineer"]).json["items"]}
    assert [code for code in APPLICABLE if items[code]["response"]] == [
        "customer_informed", "scope_what", "problem_duplicated"]
    assert items["problem_duplicated"]["response"]["reason"] == "Only at the customer's site."
    assert count(app, AuditEvent) == audit_before + 3
    assert "Saved 3 answers." in page(client, case["id"])

    # The same form again changes nothing: no answer is rewritten, no event recorded.
    before = writes(app)
    again = client.post(f"/cases/{case['id']}/checklist", data={"csrf_token": token, **form})
    assert again.status_code == 303 and again.headers["Location"].endswith("#checklist")
    assert writes(app) == before
    assert "Nothing to save: no answer changed." in page(client, case["id"])


def test_one_refused_item_in_the_whole_form_writes_nothing_and_keeps_every_answer(app, client, tokens):
    case = quiet_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    form = whole_form(page(client, case["id"]), customer_informed__value="true",
                      scope_what__value=TEXT_ANSWERS["scope_what"], action_plan__value=TEXT_ANSWERS["action_plan"],
                      specifications_checked__not_applicable="1", specifications_checked__not_applicable_reason="n/a",
                      problem_duplicated__reason="We could not tell yet.")
    before = writes(app)

    answer = client.post(f"/cases/{case['id']}/checklist", data={"csrf_token": token, **form})

    assert answer.status_code == 400
    assert writes(app) == before
    html = text(answer)
    assert "Nothing was saved: 2 answers need a change first" in html
    assert 'name="customer_informed.value" value="true" checked' in item_block(html, "customer_informed")
    assert f">{TEXT_ANSWERS['scope_what']}</textarea>" in item_block(html, "scope_what")
    assert f">{TEXT_ANSWERS['action_plan']}</textarea>" in item_block(html, "action_plan")
    assert ">We could not tell yet.</textarea>" in item_block(html, "problem_duplicated")
    assert ">n/a</textarea>" in item_block(html, "specifications_checked")
    refused = {code: re.search(r'id="item-[a-z_]+-error">([^<]*)<', item_block(html, code))
               for code in APPLICABLE}
    assert {code: found.group(1) for code, found in refused.items() if found} == {
        "specifications_checked": "Say in at least 10 characters why the item does not apply.",
        "problem_duplicated": "Choose an answer, then save."}


def test_the_whole_checklist_form_needs_a_token_and_the_partners_role(app, client, tokens):
    case = quiet_case(client, tokens["engineer"])
    sign_in(client, "engineer")
    form = whole_form(page(client, case["id"]), customer_informed__value="true")
    before = writes(app)
    assert client.post(f"/cases/{case['id']}/checklist", data=form).status_code == 400
    customer = app.test_client()
    token = sign_in(customer, "customer")
    assert customer.post(f"/cases/{case['id']}/checklist", data={"csrf_token": token, **form}).status_code == 403
    assert writes(app) == before


def test_an_escalated_cases_whole_checklist_form_is_refused_and_says_why(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    form = whole_form(page(client, case["id"]), action_plan__value="Changed my mind entirely, and more.")
    complete_checklist(client, tokens["engineer"], case["id"])
    assert client.post(f"/api/v1/cases/{case['id']}/escalation", json={},
                       headers=tokens["engineer"]).status_code == 201
    before = writes(app)

    answer = client.post(f"/cases/{case['id']}/checklist", data={"csrf_token": token, **form})

    assert answer.status_code == 409
    assert re.search(r'id="checklist-error">The checklist is closed once the case has left the open state.',
                     text(answer))
    assert writes(app) == before
