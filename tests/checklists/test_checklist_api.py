"""GET/PUT /api/v1/cases/{id}/checklist: evaluation, kinds, conditions and pinning."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.checklists.definitions import ChecklistRegistry, load_file
from app.checklists.models import ChecklistResponse
from app.extensions import db
from tests.case_helpers import complete_checklist, new_case, upload
from tests.checklists.test_definitions import V1


def checklist(client, headers, case_id):
    answer = client.get(f"/api/v1/cases/{case_id}/checklist", headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def items(document):
    return {item["code"]: item for item in document["items"]}


def put(client, headers, case_id, code, body):
    return client.put(f"/api/v1/cases/{case_id}/checklist/{code}", json=body, headers=headers)


def test_new_case_lists_every_item_unmet_with_kind_details(client, tokens):
    case = new_case(client, tokens["engineer"])
    document = checklist(client, tokens["engineer"], case["id"])
    assert document["checklist"] == "partnerworks-gtac" and document["version"] == 1
    assert document["complete"] is False
    by_code = items(document)
    assert by_code["scope_what"] == {**by_code["scope_what"], "kind": "text", "min_length": 30,
                                     "required": True, "met": False, "reason": "not_answered"}
    assert by_code["customer_informed"]["reason"] == "not_attested"
    assert by_code["logs_gathered"]["attachment_kinds"] == ["error_log", "support_bundle"]
    assert by_code["problem_duplicated"]["options"] == ["yes", "no"]
    # Conditional items that do not apply are neither required nor blocking.
    assert by_code["rma_ship_to"]["required"] is False
    assert by_code["rma_ship_to"]["reason"] == "not_applicable_to_case"
    assert by_code["crash_artifacts"]["required"] is False


def test_hardware_crash_case_requires_rma_and_core_file(client, tokens):
    case = new_case(client, tokens["engineer"], hardware_issue=True, crash=True)
    by_code = items(checklist(client, tokens["engineer"], case["id"]))
    for code in ("rma_serial_number", "rma_failure_description", "rma_ship_to", "crash_artifacts"):
        assert by_code[code]["required"] is True, code


@pytest.mark.usefixtures("attachment_store")  # uploads: on both stores
def test_crash_signature_in_a_log_makes_the_core_file_required(client, tokens):
    case = new_case(client, tokens["engineer"])
    crash_log = b"<Crit:Kernel> Process hal crashed with signal 11 (SIGSEGV)\n"
    uploaded = upload(client, tokens["engineer"], case["id"], content=crash_log)
    assert uploaded.status_code == 201
    findings = client.get(f"/api/v1/cases/{case['id']}/attachments/{uploaded.json['id']}",
                          headers=tokens["engineer"]).json["findings"]
    assert findings["crash_signatures"]
    assert items(checklist(client, tokens["engineer"], case["id"]))["crash_artifacts"]["required"] is True


def test_text_answers_are_evaluated_against_min_length(client, tokens):
    case = new_case(client, tokens["engineer"])
    assert put(client, tokens["engineer"], case["id"], "scope_what", {"value": "broken"}).status_code == 200
    item = items(checklist(client, tokens["engineer"], case["id"]))["scope_what"]
    assert (item["met"], item["reason"]) == (False, "too_short")
    assert item["response"]["value"] == "broken"
    long_enough = "The uplink flaps every few minutes and users lose sessions."
    assert put(client, tokens["engineer"], case["id"], "scope_what", {"value": long_enough}).status_code == 200
    assert items(checklist(client, tokens["engineer"], case["id"]))["scope_what"]["met"] is True


def test_scope_given_with_the_case_answers_the_scope_items(client, tokens):
    case = new_case(client, tokens["engineer"],
                    scope_what="The uplink flaps every few minutes and users lose sessions.")
    assert items(checklist(client, tokens["engineer"], case["id"]))["scope_what"]["met"] is True
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=tokens["engineer"]).json
    assert detail["scope"]["what"].startswith("The uplink flaps")
    assert "scope_what" not in detail["checklist"]["unmet"] and "scope_how" in detail["checklist"]["unmet"]


def test_values_must_fit_the_item_kind(client, tokens, app):
    case = new_case(client, tokens["engineer"])
    cid, headers = case["id"], tokens["engineer"]
    refused = [
        ("customer_informed", {"value": False}, 400, "invalid_value"),
        ("customer_informed", {"value": "yes"}, 400, "invalid_value"),
        ("scope_what", {"value": 42}, 400, "invalid_value"),
        ("problem_duplicated", {"value": "maybe"}, 400, "invalid_value"),
        ("logs_gathered", {"value": [1, 2]}, 400, "invalid_value"),
        ("logs_gathered", {"value": {"attachment_ids": [999999]}}, 422, "attachment_not_found"),
        ("problem_isolation", {"not_applicable": True, "reason": "not needed here at all"}, 422,
         "not_applicable_not_allowed"),
        ("lab_simulation", {"not_applicable": True, "reason": "no"}, 400, "reason_required"),
        ("lab_simulation", {"not_applicable": True, "reason": "no lab", "value": "x"}, 400, "invalid_response"),
        ("scope_what", {}, 400, "invalid_response"),
        ("scope_what", {"value": "x", "colour": "red"}, 400, "invalid_input"),
        ("no_such_item", {"value": True}, 404, "checklist_item_not_found"),
        ("release_notes_reviewed", {"value": {"rulings": [{"anomaly_id": "X1", "ruling": "matches"}]}},
         422, "unknown_anomaly"),
    ]
    for code, body, status, error in refused:
        answer = put(client, headers, cid, code, body)
        assert (answer.status_code, answer.json["error"]["code"]) == (status, error), (code, body, answer.json)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ChecklistResponse)) == 0


@pytest.mark.usefixtures("attachment_store")  # uploads: on both stores
def test_attachment_items_take_only_the_cases_attachments_of_allowed_kinds(client, tokens):
    headers = tokens["engineer"]
    case, other = new_case(client, headers), new_case(client, headers)
    capture = upload(client, headers, case["id"], kind="capture", filename="trace.pcap").json
    foreign = upload(client, headers, other["id"]).json
    wrong_kind = put(client, headers, case["id"], "logs_gathered", {"value": {"attachment_ids": [capture["id"]]}})
    assert wrong_kind.status_code == 422 and wrong_kind.json["error"]["code"] == "attachment_kind_not_allowed"
    other_case = put(client, headers, case["id"], "logs_gathered", {"value": {"attachment_ids": [foreign["id"]]}})
    assert other_case.status_code == 422 and other_case.json["error"]["code"] == "attachment_not_found"
    log = upload(client, headers, case["id"]).json
    assert put(client, headers, case["id"], "logs_gathered",
               {"value": {"attachment_ids": [log["id"]]}}).status_code == 200
    assert items(checklist(client, headers, case["id"]))["logs_gathered"]["met"] is True


def test_choice_no_needs_a_reason_and_not_applicable_needs_one_too(client, tokens):
    headers = tokens["engineer"]
    case = new_case(client, headers)
    assert put(client, headers, case["id"], "problem_duplicated", {"value": "no"}).status_code == 200
    assert items(checklist(client, headers, case["id"]))["problem_duplicated"]["reason"] == "reason_required"
    assert put(client, headers, case["id"], "problem_duplicated",
               {"value": "no", "reason": "Only happens at the customer site."}).status_code == 200
    assert put(client, headers, case["id"], "lab_simulation",
               {"not_applicable": True, "reason": "No lab equipment for this model."}).status_code == 200
    by_code = items(checklist(client, headers, case["id"]))
    assert by_code["problem_duplicated"]["met"] and by_code["lab_simulation"]["met"]
    assert by_code["lab_simulation"]["response"]["not_applicable"] is True


def test_responses_are_audited(client, tokens):
    headers = tokens["engineer"]
    case = new_case(client, headers)
    put(client, headers, case["id"], "customer_informed", {"value": True})
    with client.application.app_context():
        from app.audit.services import trail
        actions = [(e.action, (e.after or {}).get("item")) for e in trail("case", case["id"])]
    assert ("checklist.responded", "customer_informed") in actions


def test_a_changed_answer_replaces_the_first_and_is_audited_with_both(client, tokens):
    headers = tokens["engineer"]
    case = new_case(client, headers)
    first = put(client, headers, case["id"], "lab_simulation",
                {"not_applicable": True, "reason": "No lab equipment for this model."})
    assert first.status_code == 200, first.json
    changed = put(client, headers, case["id"], "lab_simulation",
                  {"value": "Reproduced on a lab X465 with the customer's configuration."})
    assert changed.status_code == 200, changed.json
    assert changed.json == {**changed.json, "value": "Reproduced on a lab X465 with the customer's configuration.",
                            "not_applicable": False, "reason": None, "responded_by": "Nadia Engineer"}
    assert changed.json["responded_at"] >= first.json["responded_at"]
    assert items(checklist(client, headers, case["id"]))["lab_simulation"]["met"] is True
    case_now = client.get(f"/api/v1/cases/{case['id']}", headers=headers).json
    assert case_now["updated_at"] == changed.json["responded_at"]
    with client.application.app_context():
        from app.audit.services import trail
        rows = db.session.scalars(sa.select(ChecklistResponse).filter_by(case_id=case["id"],
                                                                         item_code="lab_simulation")).all()
        assert len(rows) == 1 and rows[0].value == changed.json["value"] and rows[0].not_applicable is False
        audited = [(e.before, e.after) for e in trail("case", case["id"]) if e.action == "checklist.responded"]
    assert audited[-1] == (
        {"item": "lab_simulation", "value": None, "not_applicable": True, "reason": "No lab equipment for this model."},
        {"item": "lab_simulation", "value": "Reproduced on a lab X465 with the customer's configuration.",
         "not_applicable": False, "reason": None})


def test_who_may_read_and_answer(client, tokens):
    case = new_case(client, tokens["engineer"])
    cid = case["id"]
    assert client.get(f"/api/v1/cases/{cid}/checklist", headers=tokens["admin"]).status_code == 200
    assert client.get(f"/api/v1/cases/{cid}/checklist", headers=tokens["customer"]).status_code == 403
    assert client.get(f"/api/v1/cases/{cid}/checklist", headers=tokens["contoso"]).status_code == 404
    assert client.get(f"/api/v1/cases/{cid}/checklist", headers=tokens["gtac"]).status_code == 404
    assert put(client, tokens["customer"], cid, "customer_informed", {"value": True}).status_code == 403
    assert put(client, tokens["contoso"], cid, "customer_informed", {"value": True}).status_code == 404


def test_a_new_version_changes_no_open_case_until_migrated(app, client, tokens, tmp_path):
    headers = tokens["engineer"]
    old_case = new_case(client, headers)
    v2_text = V1.read_text().replace("version: 1", "version: 2").replace(
        "  - code: action_plan", "  - code: customer_impact\n    title: Business impact stated\n"
                                 "    kind: text\n    min_length: 10\n\n  - code: action_plan")
    v2_path = tmp_path / "partnerworks-gtac-v2.yaml"
    v2_path.write_text(v2_text)
    published = app.extensions["checklists"]
    app.extensions["checklists"] = ChecklistRegistry([load_file(V1), load_file(v2_path)])
    try:
        new = new_case(client, headers)
        assert checklist(client, headers, new["id"])["version"] == 2
        assert "customer_impact" in items(checklist(client, headers, new["id"]))
        assert checklist(client, headers, old_case["id"])["version"] == 1
        result = app.test_cli_runner().invoke(
            args=["checklist", "migrate", "--to-version", "2", "--case", str(old_case["id"])])
        assert result.exit_code == 0 and "moved 1 open case(s)" in result.output, result.output
        assert checklist(client, headers, old_case["id"])["version"] == 2
    finally:
        app.extensions["checklists"] = published


@pytest.mark.usefixtures("attachment_store")  # uploads: on both stores
def test_complete_checklist_reports_complete(client, tokens):
    case = new_case(client, tokens["engineer"])
    complete_checklist(client, tokens["engineer"], case["id"])
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=tokens["engineer"]).json
    assert detail["checklist"]["complete"] is True and detail["checklist"]["unmet"] == []
    assert detail["sr_number"] is None
