"""/api/v1/openapi.json as a contract: integrators generate their clients from it.

The document validates; every operation is named as an action and documents every
status it answers, refusals with the error body; every enum is one named component;
request examples are valid requests. A client generated from it with
openapi-python-client, with no generator warning, drives a whole journey against the
service over real HTTP and parses every answer into its typed model without losing a
field. The committed snapshot, tests/api/openapi.json, is the document: a change that would
break a generated client (an operation, a field, an enum value gone) is named first.
Update the snapshot, in the same commit as the change, with

    UPDATE_OPENAPI_SNAPSHOT=1 .venv/bin/python -m pytest tests/api/test_openapi_contract.py -k snapshot
"""
from __future__ import annotations

import copy
import glob
import importlib
import io
import json
import os
import pkgutil
import re
import socket
import subprocess
import sys
import threading
from base64 import b64encode
from pathlib import Path

import pytest
import requests
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec

from app.demo.seed import DEMO_PASSWORD
from tests.api.openapi_compat import breaking_changes, operations
from tests.conftest import DEMO_EMAILS

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "api" / "openapi.json"
RECORDED = Path(__file__).resolve().parent / "recorded"
CLIENT_PACKAGE = "gtac_triage_client"
GENERATION_SECONDS = 180  # a few seconds on a developer's machine; a hung generator fails the test
# The first word of every operationId: what the caller does.
ACTIONS = {"list", "get", "open", "post", "answer", "upload", "download", "escalate", "create", "add", "submit",
           "approve", "reject", "retry", "record", "set", "import", "resolve", "reopen", "transition", "assign",
           "change", "stream", "request", "register", "deactivate", "issue", "revoke", "suspend", "reinstate",
           "extend", "invite", "reactivate", "preview", "apply", "close", "remove"}


@pytest.fixture(scope="module")
def document(app):
    answer = app.test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()


def resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = document["components"][section][name]
    return node


def inline(document: dict, node, depth: int = 0):
    """The schema with every reference replaced by what it names (no schema here refers to itself)."""
    assert depth < 20, "a schema refers to itself"
    if isinstance(node, dict):
        node = resolve(document, node)
        return {key: inline(document, value, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [inline(document, item, depth + 1) for item in node]
    return node


# --- the document -------------------------------------------------------------------------------

def test_document_is_valid_openapi(document):
    validate_spec(document)


def test_every_operation_is_named_as_an_action_under_one_feature_tag(document):
    tags = {tag["name"] for tag in document["tags"]}
    names = []
    for (method, path), operation in operations(document).items():
        name = operation.get("operationId", "")
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", name), (method, path, name)
        assert name.split("_")[0] in ACTIONS, f"{method.upper()} {path}: {name} does not start with an action"
        assert len(operation["tags"]) == 1 and operation["tags"][0] in tags, (method, path, operation["tags"])
        names.append(name)
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert len(names) == 121


def test_every_enum_is_one_named_component(document):
    """An enum is defined once, in components/schemas, and referred to wherever it is used."""
    inline_enums = []

    def walk(node, where):
        if isinstance(node, dict):
            if "enum" in node and not re.fullmatch(r"components/schemas/\w+", where):
                inline_enums.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(document["components"], "components")
    walk(document["paths"], "paths")
    assert inline_enums == []
    # apispec numbers a second schema that resolves to a taken name (Case1): none may.
    assert [name for name in document["components"]["schemas"] if re.search(r"\d$", name)] == []
    enums = {name: schema["enum"] for name, schema in document["components"]["schemas"].items() if "enum" in schema}
    assert {"CaseStatus", "Severity", "Channel", "ClaimStatus", "ClaimType", "PayoutStatus", "SRStatus",
            "RMAStatus", "AttachmentKind", "Role"} <= set(enums)
    assert enums["CaseStatus"] == ["open", "escalated", "resolved", "closed"]
    # The case list's filter and the case's own status are the same enum.
    status_filter = next(p for p in document["paths"]["/api/v1/cases"]["get"]["parameters"] if p["name"] == "status")
    assert status_filter["schema"] == {"$ref": "#/components/schemas/CaseStatus"}


def test_request_bodies_have_examples_that_are_valid_requests(document):
    for (method, path), operation in operations(document).items():
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        body = content["application/json"]
        assert "example" in body, f"{method.upper()} {path} has no example request body"
        OAS30Validator(inline(document, body["schema"])).validate(body["example"])


def test_every_refusal_documents_the_error_body(document):
    for (method, path), operation in operations(document).items():
        responses = operation["responses"]
        assert "401" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        for status, response in responses.items():
            if status.startswith("4"):
                schema = resolve(document, response)["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_every_status_the_recorded_answers_show_is_documented(document):
    """tests/api/recorded holds what the API answered to journeys through every operation."""
    templates = [(method, path, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"))
                 for method, path in operations(document)]
    undocumented = set()
    checked = 0
    for recording in sorted(glob.glob(str(RECORDED / "*.json"))):
        for exchange in json.loads(Path(recording).read_text())["exchanges"]:
            if "request" not in exchange:
                continue  # what the service sent to a partner's webhook
            request, status = exchange["request"], str(exchange["response"]["status"])
            target = request["target"].split("?")[0]
            # A literal segment wins over a parameter (/claims/approvals, not /claims/{claim_id}).
            matches = sorted((path.count("{"), path) for method, path, pattern in templates
                             if method == request["method"].lower() and pattern.match(target))
            if not matches:
                continue  # not an operation of the API: /healthz, webhooks from providers, unknown paths
            path = matches[0][1]
            checked += 1
            if status not in document["paths"][path][request["method"].lower()]["responses"]:
                undocumented.add(f"{request['method']} {path} {status}")
    assert checked > 500
    assert sorted(undocumented) == []


# --- the snapshot -------------------------------------------------------------------------------

def test_snapshot_is_the_document(app, document):
    served = app.test_client().get("/api/v1/openapi.json").get_data(as_text=True)
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT"):
        SNAPSHOT.write_text(served + "\n")
    snapshot = json.loads(SNAPSHOT.read_text())
    breaking = breaking_changes(snapshot, document)
    assert not breaking, ("The API changed in ways that break generated clients:\n" + "\n".join(breaking)
                          + "\nIf that is meant, update tests/api/openapi.json (see this module's docstring).")
    assert document == snapshot, ("The OpenAPI document changed: update tests/api/openapi.json in the same commit "
                                  "(see this module's docstring) and review its diff.")


def test_breaking_changes_are_named(document):
    assert breaking_changes(document, document) == []

    grown = copy.deepcopy(document)
    grown["components"]["schemas"]["Case"]["properties"]["priority"] = {"type": "integer"}
    grown["components"]["schemas"]["CaseStatus"]["enum"].append("archived")
    grown["paths"]["/api/v1/cases/{case_id}/archive"] = {"post": {"operationId": "archive_case", "responses": {}}}
    assert breaking_changes(document, grown) == []

    shrunk = copy.deepcopy(document)
    del shrunk["paths"]["/api/v1/me"]
    shrunk["paths"]["/api/v1/cases"]["post"]["operationId"] = "create_case"
    case = shrunk["components"]["schemas"]["Case"]["properties"]
    case["headline"] = case.pop("title")
    shrunk["components"]["schemas"]["Severity"]["enum"].remove("S4")
    shrunk["components"]["schemas"]["MessageCreate"]["required"].append("attachment_ids")
    shrunk["paths"]["/api/v1/cases"]["get"]["parameters"] = [
        p for p in shrunk["paths"]["/api/v1/cases"]["get"]["parameters"] if p["name"] != "q"]
    del shrunk["components"]["schemas"]["Token"]
    assert sorted(breaking_changes(document, shrunk)) == sorted([
        "operation removed: GET /api/v1/me (get_current_user)",
        "operation renamed: POST /api/v1/cases open_case -> create_case",
        "field removed or renamed: Case.title",
        "enum value removed: Severity 'S4'",
        "field now required: MessageCreate.attachment_ids",
        "parameter removed: GET /api/v1/cases query q",
        "schema removed or renamed: Token",
    ])


# --- a generated client -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def generated_client(document, tmp_path_factory):
    """The client package openapi-python-client generates from the document; any warning fails."""
    folder = tmp_path_factory.mktemp("generated")
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(document))
    config = folder / "config.json"
    # No formatter run: its output is the same code, and it is not what is under test.
    config.write_text(json.dumps({"package_name_override": CLIENT_PACKAGE, "post_hooks": []}))
    run = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec), "--config", str(config),
         "--meta", "none", "--output-path", str(folder / CLIENT_PACKAGE), "--fail-on-warning"],
        capture_output=True, text=True, timeout=GENERATION_SECONDS, cwd=folder)
    output = run.stdout + run.stderr
    assert run.returncode == 0 and "warning" not in output.lower(), output
    sys.path.insert(0, str(folder))
    try:
        package = importlib.import_module(CLIENT_PACKAGE)
        # Every module, so that package.api.<tag>.<operationId> and package.models.<Schema> resolve.
        for module in pkgutil.walk_packages(package.__path__, f"{CLIENT_PACKAGE}."):
            importlib.import_module(module.name)
        yield package
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == CLIENT_PACKAGE]:
            del sys.modules[name]


@pytest.fixture
def payments_provider(app, live_server, monkeypatch):
    """The sandbox payments provider in a process of its own, as `make run` starts it; it pays
    nothing during the test, so payouts it accepts stay in transit."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--webhook-url",
         f"{live_server}/webhooks/payments/sandbox", "--secret", app.config["PAYMENTS_WEBHOOK_SECRET"],
         "--api-key", app.config["PAYMENTS_SANDBOX_API_KEY"], "--settle-after", "3600"],
        cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert process.poll() is None, "the sandbox provider exited at start-up"
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                threading.Event().wait(0.1)
        else:
            pytest.fail("the sandbox provider did not start")
        monkeypatch.setitem(app.config, "PAYMENTS_PROVIDER", "sandbox")
        monkeypatch.setitem(app.config, "PAYMENTS_SANDBOX_URL", url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def typed(client_package, response, model: type):
    """The answer's parsed model, checked to hold every field the server sent, as it sent it."""
    assert not isinstance(response.parsed, client_package.models.Error), response.content[:800]
    assert isinstance(response.parsed, model), (model, response.status_code, response.content[:800])
    sent = json.loads(response.content)
    assert response.parsed.to_dict() == sent, (model, sent)
    return response.parsed


def test_generated_client_drives_a_whole_journey(generated_client, live_server, payments_provider, demo):
    gtac = generated_client
    api, models = gtac.api, gtac.models
    from gtac_triage_client.types import File  # noqa: PLC0415 -- generated at run time

    def signed_in(who: str):
        """Signs in as a demo user with email and password, the way an integration starts."""
        credentials = b64encode(f"{DEMO_EMAILS[who]}:{DEMO_PASSWORD}".encode()).decode()
        by_password = gtac.AuthenticatedClient(base_url=live_server, token=credentials, prefix="Basic",
                                               raise_on_unexpected_status=True, timeout=30)
        issued = typed(gtac, api.tokens.issue_token.sync_detailed(
            client=by_password, body=models.TokenRequest(name="PSA integration")), models.IssuedToken)
        caller = gtac.AuthenticatedClient(base_url=live_server, token=issued.token, raise_on_unexpected_status=True,
                                          timeout=30)
        me = typed(gtac, api.tokens.get_current_user.sync_detailed(client=caller), models.Me)
        assert me.email == DEMO_EMAILS[who]
        return caller

    engineer = signed_in("engineer")

    # A case, opened and found in the list.
    case = typed(gtac, api.cases.open_case.sync_detailed(client=engineer, body=models.CaseCreate(
        serial_number="ACME-0003", software_version="32.6.1.4", severity=models.Severity.S2,
        title="Uplink flaps on core switch", description="Port 1:49 to the core flaps every few minutes.")),
        models.Case)
    assert case.status is models.CaseStatus.OPEN
    page = typed(gtac, api.cases.list_cases.sync_detailed(client=engineer, status=models.CaseStatus.OPEN,
                                                          limit=100), models.CasePage)
    assert case.id in [summary.id for summary in page.items]
    typed(gtac, api.cases.get_case.sync_detailed(case.id, client=engineer), models.CaseDetail)

    # A log, uploaded; triage reads it.
    log = (b"<Info:System> ExtremeXOS version 32.6.1.4 booted\n"
           b"<Erro:HAL.Port> Port 1:49 link flap detected\n")
    uploaded = typed(gtac, api.attachments.upload_case_attachment.sync_detailed(case.id, client=engineer, body=(
        models.UploadCaseAttachmentBody(file=File(payload=io.BytesIO(log), file_name="error.log"),
                                        kind=models.AttachmentKind.ERROR_LOG))), models.Attachment)
    assert uploaded.kind is models.AttachmentKind.ERROR_LOG
    typed(gtac, api.triage.get_triage.sync_detailed(case.id, client=engineer), models.Triage)

    # The checklist, answered item by item as its items say.
    checklist = typed(gtac, api.checklists.get_checklist.sync_detailed(case.id, client=engineer), models.Checklist)
    for item in checklist.items:
        if not item.required or item.met:
            continue
        if item.kind == "triage_ruling":
            value = ({"rulings": [{"anomaly_id": anomaly, "ruling": "not_relevant"} for anomaly in item.suggestions]}
                     if item.suggestions else True)
        elif item.kind == "attestation":
            value = True
        elif item.kind == "choice":
            value = item.options[0]
        elif item.kind == "text":
            value = ("Seen on port 1:49 of the core switch since the upgrade to 32.6.1.4; " * 4)[:max(
                item.min_length or 0, 80)]
        else:
            kind = models.AttachmentKind(item.attachment_kinds[0])
            proof = typed(gtac, api.attachments.upload_case_attachment.sync_detailed(case.id, client=engineer, body=(
                models.UploadCaseAttachmentBody(file=File(payload=io.BytesIO(b"evidence\n"), file_name="evidence.txt"),
                                                kind=kind))), models.Attachment)
            value = {"attachment_ids": [proof.id]}
        typed(gtac, api.checklists.answer_checklist_item.sync_detailed(
            case.id, item.code, client=engineer, body=models.ResponseBody(value=value)), models.ItemResponse)
    checklist = typed(gtac, api.checklists.get_checklist.sync_detailed(case.id, client=engineer), models.Checklist)
    assert checklist.complete, [item.code for item in checklist.items if item.required and not item.met]

    # Escalated to GTAC, who finds the SR in their list and writes on its thread.
    sr = typed(gtac, api.escalation.escalate_case.sync_detailed(
        case.id, client=engineer, idempotency_key="contract-journey-1",
        body=models.EscalationRequest(note="Please check the known defect EXOS-31207.")), models.ServiceRequest)
    gtac_engineer = signed_in("gtac")
    queue = typed(gtac, api.srs.list_srs.sync_detailed(client=gtac_engineer, limit=100), models.SRPage)
    assert sr.sr_number in [summary.sr_number for summary in queue.items]
    detail = typed(gtac, api.srs.get_sr.sync_detailed(sr.sr_number, client=gtac_engineer), models.SRDetail)
    assert detail.status is models.SRStatus.NEW
    typed(gtac, api.srs.post_sr_message.sync_detailed(sr.sr_number, client=gtac_engineer, body=models.SRMessageIn(
        body="Please send the output of show log during a flap.")), models.SRMessage)
    typed(gtac, api.cases.post_case_message.sync_detailed(case.id, client=engineer, body=models.MessageCreate(
        channel=models.Channel.CUSTOMER, body="GTAC is looking at port 1:49 now.")), models.Message)

    # A rebate claim, submitted by the partner and approved by the programmes team: it is paid out.
    partner = signed_in("admin")
    claim = typed(gtac, api.payments.create_claim.sync_detailed(client=partner, body=models.ClaimCreate(
        type_=models.ClaimType.REBATE, amount=50_000, currency="USD", period="2026-Q3",
        description="Q3 rebate on the X465 deal")), models.Claim)
    assert claim.status is models.ClaimStatus.DRAFT
    claim = typed(gtac, api.payments.submit_claim.sync_detailed(claim.id, client=partner), models.Claim)
    assert claim.status is models.ClaimStatus.SUBMITTED
    programmes = signed_in("programs")
    claim = typed(gtac, api.payments.approve_claim.sync_detailed(claim.id, client=programmes), models.Claim)
    assert claim.status is models.ClaimStatus.PAYOUT_PENDING
    payouts = typed(gtac, api.payments.list_payouts.sync_detailed(client=programmes, claim_id=claim.id),
                    models.PayoutPage)
    (payout,) = payouts.items
    assert payout.status in (models.PayoutStatus.PENDING, models.PayoutStatus.IN_TRANSIT)
    typed(gtac, api.payments.get_payout.sync_detailed(payout.id, client=programmes), models.Payout)
    typed(gtac, api.payments.get_ledger_balances.sync_detailed(client=programmes), models.Balances)

    # A refusal comes back as the error body, typed too.
    refused = api.payments.approve_claim.sync_detailed(claim.id, client=programmes)
    assert refused.status_code == 409 and isinstance(refused.parsed, models.Error)
    assert refused.parsed.error.code
