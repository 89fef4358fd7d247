"""Golden answers: the API answers a recorded set of requests byte for byte as it did when recorded.

Each test plays one journey through /api/v1 from the seeded demo data, with the
application's clock fixed (one minute passes before every request), every id
counter starting at 1, and payouts answered at once by an in-process provider
under the sandbox's name. Each exchange (who asks, method, path, body; status,
the headers a client acts on, the exact body) is compared with
tests/api/recorded/<journey>.json as soon as it is made; the first difference
fails with a diff of that exchange. The random values (issued tokens, webhook
signing secrets, the loopback receiver's port) are replaced in one place,
`recording.normalise`, and nowhere else.

One recording serves both databases: no request relies on an order that
SQLite and PostgreSQL may settle differently. The funding journey alone is
recorded once per database (<journey>.sqlite.json, <journey>.postgresql.json),
for the reason its docstring gives.

Re-record only when the API is meant to answer differently, and review the diff
of tests/api/recorded/ like code; a recording rewritten for any other reason
hides the very change this test is there to show:

    RECORD_ANSWERS=1 .venv/bin/python -m pytest tests/api/test_recorded_answers.py
    RECORD_ANSWERS=1 TEST_DATABASE_URL=postgresql://... .venv/bin/python -m pytest tests/api/test_recorded_answers.py

The first rewrites every recording but the *.postgresql.json ones; the second
rewrites those only, and compares the rest as usual.
"""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.outbox.dispatch import EagerDispatcher
from app.payments import signing
from app.payments.providers import ProviderRejected, ProviderResult
from app.payments.providers.http import HttpProvider
from tests.api.recording import RECORDING, Receiver, Recorder
from tests.conftest import basic

LOG = ("<Info:System> ExtremeXOS version 32.6.1.4 booted\n"
       "<Erro:HAL.Port> Port 1:49 link flap detected\n"
       "<Erro:HAL.Port> Port 1:49 link flap detected\n")
ANSWERS = {
    "scope_what": "Uplink 1:49 to the core flaps every few minutes, users lose sessions.",
    "scope_when": "Since the upgrade to 32.6.1.4 on Monday, every 5 to 10 minutes.",
    "scope_how": "Happens under normal load; clearing counters does not help at all.",
    "problem_isolation": "Swapped optics and cable, moved the uplink to 1:50: the flap follows the port.",
    "specifications_checked": "Port speed and optic are supported per the X465 data sheet.",
    "lab_simulation": "Reproduced in our lab with the same optic and 32.6.1.4 firmware.",
    "action_plan": "Collect debug output during a flap and ask GTAC to confirm a known defect.",
    "logs_analysed": "error.log shows HAL.Port link flap every few minutes since the upgrade.",
    "rma_serial_number": "ACME-0003",
    "rma_failure_description": "Port 1:49 hardware fails link negotiation repeatedly.",
    "rma_ship_to": "Acme Corp, Dock 4, 1 Main Street, Springfield, +1 555 0100",
}
SHIP_TO = "Acme Corp, Dock 4, 1 Main Street, Springfield, +1 555 0100"


# --- set-up -----------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def jobs_in_process(app, monkeypatch):
    """Outbox events run right after each commit, in the request's own thread, in both legs.

    On RQ an upload's log is scanned by a worker after the answer has been built, so the answer
    says "not scanned yet" where the in-process run shows the findings: both are right, and the
    RQ path has its own tests (tests/outbox). The recordings pin the answers of one way of running.
    """
    monkeypatch.setitem(app.extensions, "outbox_dispatch", EagerDispatcher())


@pytest.fixture
def fresh_counters(app):
    """Ids, SR and RMA numbers start at 1, whatever ran before in this session: PostgreSQL's
    number sequences belong to no table, so the TRUNCATE ... RESTART IDENTITY between tests
    leaves them where they were."""
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            for name in connection.scalars(sa.text(
                    "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()")):
                connection.execute(sa.text(f'ALTER SEQUENCE "{name}" RESTART'))
        elif "sqlite_sequence" in sa.inspect(connection).get_table_names():
            connection.execute(sa.text("DELETE FROM sqlite_sequence"))


@pytest.fixture
def demo(clock, fresh_counters, demo):
    """The demo data, seeded at T0 on fresh counters."""
    return demo


class InstantProvider:
    """The payments provider, answering at once: an IBAN payee's payout is in transit, any other
    payee is refused. Its webhooks are the sandbox's own, verified by the real adapter."""

    name = "sandbox"

    def __init__(self, webhook_secret: str):
        self.webhooks = HttpProvider(name="sandbox", base_url="http://provider.invalid", api_key="unused",
                                     webhook_secret=webhook_secret, timeout=1)

    def create_payout(self, instruction):
        if instruction.payee.kind != "iban":
            raise ProviderRejected("HTTP 422: this provider pays IBAN accounts only")
        return ProviderResult(status="in_transit", provider_payout_id=f"sbx_{instruction.idempotency_key}")

    def payout_status(self, idempotency_key):
        return None

    def parse_webhooks(self, headers, body):
        return self.webhooks.parse_webhooks(headers, body)


@pytest.fixture
def receiver():
    served = Receiver()
    yield served
    served.close()


@pytest.fixture
def recorder(app, client, tokens, clock, receiver, monkeypatch):
    """recorder(name) plays a journey against the recording of that name."""
    # A stream sends its backlog and ends, instead of waiting for live events.
    monkeypatch.setitem(app.config, "SR_EVENTS_MAX_SECONDS", 0)
    monkeypatch.setitem(app.config, "SR_WEBHOOK_ALLOW_PRIVATE", True)  # the receiver is on loopback
    monkeypatch.setitem(app.config, "PAYMENTS_PROVIDER", "sandbox")
    monkeypatch.setitem(app.extensions, "payment_providers",
                        {"sandbox": InstantProvider(app.config["PAYMENTS_WEBHOOK_SECRET"])})
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 1_000_000)
    monkeypatch.setitem(app.config, "MAX_BODY_BYTES", 4096)  # small enough for a 413 to fit in a recording

    database = "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"

    def make(name, per_database=False):
        # The shared recordings are made on SQLite; on PostgreSQL they are always compared.
        return Recorder(f"{name}.{database}" if per_database else name, client, {**tokens, "anonymous": {}},
                        clock, receiver, recording=RECORDING and (per_database or database == "sqlite"))

    yield make


def expect(answer, status):
    """The script's own check that a step did what it is there for (the recording checks the rest)."""
    assert answer.status == status, (status, answer.status, answer.data[:800])
    return answer


# --- shared steps ---------------------------------------------------------------------------

def open_case(rec, who, **fields):
    body = {"serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S2",
            "title": "Uplink flaps on core switch", "description": "Port 1:49 flaps every few minutes.", **fields}
    return expect(rec.call(who, "POST", "/api/v1/cases", json_body=body), 201).json


def upload(rec, who, url, kind="error_log", filename="error.log", content=LOG):
    return rec.call(who, "POST", url, form={"kind": kind}, files={"file": (filename, content.encode())})


def complete_checklist(rec, who, case_id, rulings="not_relevant"):
    """Answer every open required item, in the order the checklist lists them."""
    url = f"/api/v1/cases/{case_id}/checklist"
    for item in expect(rec.call(who, "GET", url), 200).json["items"]:
        if not item["required"] or item["met"]:
            continue
        if item["kind"] == "triage_ruling":
            # Uploaded logs change what triage suggests: read the suggestions afresh.
            fresh = expect(rec.call(who, "GET", url), 200).json["items"]
            suggested = next(i for i in fresh if i["code"] == item["code"])["suggestions"]
            body = {"value": {"rulings": [{"anomaly_id": anomaly, "ruling": rulings} for anomaly in suggested]}
                    if suggested else True}
        elif item["kind"] == "attestation":
            body = {"value": True}
        elif item["kind"] == "text":
            body = {"value": ANSWERS[item["code"]]}
        elif item["kind"] == "choice":
            body = {"value": item["options"][0]}
        else:
            kind = item["attachment_kinds"][0]
            uploaded = expect(upload(rec, who, f"/api/v1/cases/{case_id}/attachments", kind=kind,
                                     filename=f"{kind}.txt"), 201).json
            body = {"value": {"attachment_ids": [uploaded["id"]]}}
        expect(rec.call(who, "PUT", f"{url}/{item['code']}", json_body=body), 200)
    assert expect(rec.call(who, "GET", url), 200).json["complete"]


def balances(rec):
    """The ledger balances, read while each currency's payouts are in one status only: the pipeline
    lists its statuses in no defined order (funding.pipeline groups without ordering), and
    PostgreSQL's order differs from SQLite's."""
    answer = expect(rec.call("programs", "GET", "/api/v1/ledger/balances"), 200)
    for balance in answer.json["balances"]:
        assert len(balance["pipeline"]) <= 1, ("read the balances at another moment", balance["pipeline"])
    return answer


def escalate(rec, who, case_id, key=None, body=None):
    headers = {"Idempotency-Key": key} if key else None
    return rec.call(who, "POST", f"/api/v1/cases/{case_id}/escalation", json_body=body or {}, headers=headers)


# --- the journeys ------------------------------------------------------------------------------

# Path parameters for requests that are refused before anything is looked up.
SWEEP_PARAMETERS = {"case_id": "1", "attachment_id": "1", "code": "scope_what", "claim_id": "1", "payout_id": "1",
                    "import_id": "1", "sr_number": "SR00000001", "rma_number": "RMA00000001", "webhook_id": "1",
                    "token_id": "1", "partner_id": "1", "customer_id": "1", "product_id": "1", "user_id": "1",
                    "programme_id": "1", "period_id": "1", "contract_id": "1", "serial_number": "ACME-0001",
                    "kind": "contracts", "integration_id": "1", "level_id": "1"}


def test_openapi_document_and_authentication(recorder, demo):
    """The OpenAPI document and every operation it lists, called without credentials; then tokens:
    issued by password, used, listed, revoked, the ways a caller is not recognised, and throttling."""
    rec = recorder("openapi")
    document = expect(rec.call("anonymous", "GET", "/api/v1/openapi.json"), 200).json
    for path, operations in sorted(document["paths"].items()):
        for method in sorted(m for m in operations if m in ("get", "post", "put", "delete", "patch")):
            if path == "/api/v1/openapi.json":
                continue
            body = {} if method in ("post", "put", "patch") else None
            expect(rec.call("anonymous", method.upper(), path.format(**SWEEP_PARAMETERS), json_body=body), 401)
    rec.finish()

    rec = recorder("authentication")
    engineer = "engineer@northwind.example"
    expect(rec.call("anonymous", "POST", "/api/v1/tokens"), 401)
    rec.add_caller("wrong password", basic(engineer, "not-the-password"))
    expect(rec.call("wrong password", "POST", "/api/v1/tokens"), 401)
    rec.add_caller("unknown user", basic("nobody@northwind.example"))
    expect(rec.call("unknown user", "POST", "/api/v1/tokens"), 401)
    rec.add_caller("engineer by password", basic(engineer))
    expect(rec.call("engineer by password", "POST", "/api/v1/tokens", json_body={"name": 42}), 400)
    issued = expect(rec.call("engineer by password", "POST", "/api/v1/tokens",
                             json_body={"name": "PSA integration"}), 201).json
    rec.add_caller("new token", {"Authorization": f"Bearer {issued['token']}"})
    expect(rec.call("new token", "GET", "/api/v1/me"), 200)
    expect(rec.call("new token", "GET", "/api/v1/tokens"), 200)
    expect(rec.call("admin", "DELETE", f"/api/v1/tokens/{issued['id']}"), 404)  # not the admin's token
    expect(rec.call("new token", "DELETE", f"/api/v1/tokens/{issued['id']}"), 204)
    expect(rec.call("new token", "GET", "/api/v1/me"), 401)  # revoked
    expect(rec.call("engineer", "GET", "/api/v1/tokens"), 200)
    rec.add_caller("made-up token", {"Authorization": "Bearer gtac_this-token-was-never-issued"})
    expect(rec.call("made-up token", "GET", "/api/v1/me"), 401)
    rec.add_caller("basic on a bearer endpoint", basic(engineer))
    expect(rec.call("basic on a bearer endpoint", "GET", "/api/v1/me"), 401)
    for who in ("engineer", "admin", "customer", "contoso", "fabrikam", "gtac", "manager", "programs"):
        expect(rec.call(who, "GET", "/api/v1/me"), 200)
    expect(rec.call("engineer", "GET", "/api/v1/no-such-thing"), 404)
    expect(rec.call("anonymous", "GET", "/healthz"), 200)
    expect(rec.call("anonymous", "GET", "/readyz"), 200)
    # Guessing a password: five failures, then no more tries for a while, even with the right one.
    rec.add_caller("guesser", basic("customer@fabrikam.example", "guess"))
    for _ in range(5):
        expect(rec.call("guesser", "POST", "/api/v1/tokens"), 401)
    expect(rec.call("guesser", "POST", "/api/v1/tokens"), 429)
    rec.add_caller("fabrikam by password", basic("customer@fabrikam.example"))
    expect(rec.call("fabrikam by password", "POST", "/api/v1/tokens"), 429)
    rec.finish()


def test_support_journey(recorder, demo):
    """Cases, the checklist, attachments, triage, resolution with a known fix, escalation and the thread."""
    rec = recorder("support")
    for who in ("engineer", "admin", "customer", "contoso", "fabrikam", "gtac"):
        expect(rec.call(who, "GET", "/api/v1/cases"), 200)
    expect(rec.call("programs", "GET", "/api/v1/cases"), 403)
    first_page = expect(rec.call("engineer", "GET", "/api/v1/cases", query={"limit": 1}), 200).json
    expect(rec.call("engineer", "GET", "/api/v1/cases", query={"limit": 1, "cursor": first_page["next_cursor"]}), 200)
    expect(rec.call("engineer", "GET", "/api/v1/cases", query={"status": "open", "severity": "S3"}), 200)
    expect(rec.call("engineer", "GET", "/api/v1/cases", query={"q": "multicast"}), 200)
    expect(rec.call("engineer", "GET", "/api/v1/cases", query={"cursor": "not-a-cursor"}), 400)
    expect(rec.call("engineer", "GET", "/api/v1/cases", query={"severity": "S9", "limit": 0}), 400)

    # Opening cases, and the ways it is refused.
    case = open_case(rec, "engineer", title="Uplink flaps on core switch",
                     description="Port 1:49 to the core flaps every few minutes since the upgrade.")
    case_id = case["id"]
    open_case(rec, "customer", serial_number="ACME-0005", severity="S3", title="Console port unresponsive",
              description="The console port of the switch in rack 4 shows no prompt.")
    expect(rec.call("engineer", "POST", "/api/v1/cases", json_body={"serial_number": "ACME-0003"}), 400)
    expect(rec.call("engineer", "POST", "/api/v1/cases", json_body={
        "serial_number": "FAB-0001", "software_version": "9.0.1", "severity": "S2", "title": "Not our customer",
        "description": "A serial of another partner's customer."}), 422)
    expect(rec.call("gtac", "POST", "/api/v1/cases", json_body={
        "serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S2", "title": "GTAC opening",
        "description": "GTAC may not open cases."}), 403)
    expect(rec.call("engineer", "POST", "/api/v1/cases", text='{"serial_number": ', content_type="application/json"),
           400)
    expect(rec.call("engineer", "POST", "/api/v1/cases", text="serial_number=ACME-0003", content_type="text/plain"),
           415)

    # Reading a case: its tenants, and nobody else.
    for who, status in (("engineer", 200), ("admin", 200), ("customer", 200), ("contoso", 404), ("fabrikam", 404),
                        ("gtac", 404), ("programs", 404)):
        expect(rec.call(who, "GET", f"/api/v1/cases/{case_id}"), status)
    expect(rec.call("engineer", "GET", "/api/v1/cases/999999"), 404)

    # The checklist, incomplete: escalation is refused with every reason at once.
    checklist = f"/api/v1/cases/{case_id}/checklist"
    expect(rec.call("engineer", "GET", checklist), 200)
    expect(rec.call("customer", "GET", checklist), 403)
    expect(rec.call("contoso", "GET", checklist), 404)
    expect(escalate(rec, "engineer", case_id), 422)
    expect(rec.call("engineer", "PUT", f"{checklist}/scope_what", json_body={"value": "too short"}), 200)
    expect(rec.call("engineer", "PUT", f"{checklist}/no_such_item", json_body={"value": True}), 404)
    expect(rec.call("engineer", "PUT", f"{checklist}/customer_informed", json_body={"value": "yes"}), 400)
    expect(rec.call("engineer", "PUT", f"{checklist}/scope_what", json_body={"wrong": "shape"}), 400)
    expect(rec.call("customer", "PUT", f"{checklist}/customer_informed", json_body={"value": True}), 403)
    expect(rec.call("engineer", "PUT", f"{checklist}/problem_duplicated", json_body={"value": "no"}), 200)
    expect(rec.call("engineer", "PUT", f"{checklist}/lab_simulation",
                    json_body={"not_applicable": True, "reason": "No lab unit of this model is available to us."}),
           200)

    # A log: uploaded, listed, read, downloaded; its findings feed triage.
    attachments = f"/api/v1/cases/{case_id}/attachments"
    log = expect(upload(rec, "engineer", attachments), 201).json
    expect(upload(rec, "customer", attachments, kind="other", filename="photo-of-rack.txt",
                  content="A photo of the rack, described.\n"), 201)
    expect(rec.call("engineer", "POST", attachments, form={"kind": "error_log"}), 400)
    expect(upload(rec, "engineer", attachments, kind="diary"), 400)
    expect(upload(rec, "contoso", attachments), 404)
    expect(upload(rec, "engineer", attachments, content=""), 400)
    for who in ("engineer", "customer"):
        expect(rec.call(who, "GET", attachments), 200)
    expect(rec.call("fabrikam", "GET", attachments), 404)
    expect(rec.call("engineer", "GET", f"{attachments}/{log['id']}"), 200)
    expect(rec.call("engineer", "GET", f"{attachments}/999999"), 404)
    expect(rec.call("customer", "GET", f"{attachments}/{log['id']}/content"), 200)
    expect(rec.call("contoso", "GET", f"{attachments}/{log['id']}/content"), 404)

    triage = f"/api/v1/cases/{case_id}/triage"
    expect(rec.call("engineer", "GET", triage), 200)
    expect(rec.call("customer", "GET", triage), 403)
    expect(rec.call("contoso", "GET", triage), 404)

    # The thread before escalation.
    messages = f"/api/v1/cases/{case_id}/messages"
    expect(rec.call("engineer", "POST", messages, json_body={"channel": "internal", "body": "Checking the optics."}),
           201)
    expect(rec.call("engineer", "POST", messages,
                    json_body={"channel": "customer", "body": "We are looking at port 1:49 now."}), 201)
    expect(rec.call("customer", "POST", messages,
                    json_body={"channel": "customer", "body": "Thanks, it flapped again."}), 201)
    expect(rec.call("customer", "POST", messages, json_body={"channel": "internal", "body": "Let me in."}), 403)
    expect(rec.call("engineer", "POST", messages, json_body={"channel": "gtac", "body": "Too early."}), 422)
    expect(rec.call("engineer", "POST", messages, json_body={"channel": "smoke-signals", "body": "x"}), 400)
    expect(rec.call("engineer", "POST", messages, json_body={"channel": "internal", "body": ""}), 400)
    expect(rec.call("engineer", "POST", messages, json_body={"channel": "internal", "body": "flap " * 1000}), 413)
    for who in ("engineer", "customer"):
        expect(rec.call(who, "GET", messages), 200)
    expect(rec.call("engineer", "GET", messages, query={"channel": "internal"}), 200)
    expect(rec.call("customer", "GET", messages, query={"channel": "internal"}), 403)
    expect(rec.call("contoso", "GET", messages), 404)

    # Complete the checklist, then escalate: once, replayed, refused with another body, refused again.
    complete_checklist(rec, "engineer", case_id)
    expect(escalate(rec, "engineer", case_id, key="bad key with spaces"), 400)
    expect(escalate(rec, "engineer", case_id, body={"note": 5}), 400)
    expect(escalate(rec, "customer", case_id, key="journey-1"), 403)
    expect(escalate(rec, "contoso", case_id, key="journey-1"), 404)
    sr = expect(escalate(rec, "engineer", case_id, key="journey-1", body={"note": "Please check PD4-123."}), 201).json
    expect(escalate(rec, "engineer", case_id, key="journey-1", body={"note": "Please check PD4-123."}), 201)
    expect(escalate(rec, "engineer", case_id, key="journey-1", body={"note": "Another note."}), 409)
    expect(escalate(rec, "engineer", case_id, key="journey-2"), 409)
    assert sr["sr_number"] == "SR00000001"

    # After escalation: GTAC sees the case and its channel; the checklist is a record.
    for who in ("engineer", "customer", "gtac", "manager"):
        expect(rec.call(who, "GET", f"/api/v1/cases/{case_id}"), 200)
    expect(rec.call("gtac", "GET", checklist), 200)
    expect(rec.call("gtac", "GET", triage), 200)
    expect(rec.call("gtac", "GET", attachments), 200)
    expect(upload(rec, "gtac", attachments), 403)
    expect(rec.call("gtac", "POST", messages, json_body={"channel": "gtac", "body": "Looking at it."}), 201)
    expect(rec.call("engineer", "POST", messages, json_body={"channel": "gtac", "body": "Thanks, logs attached."}),
           201)
    expect(rec.call("gtac", "POST", messages, json_body={"channel": "customer", "body": "Hello customer."}), 403)
    for who in ("engineer", "customer", "gtac"):
        expect(rec.call(who, "GET", messages), 200)
    expect(rec.call("gtac", "GET", "/api/v1/cases"), 200)
    expect(rec.call("engineer", "PUT", f"{checklist}/action_plan",
                    json_body={"value": "Changed my mind about the whole plan, sorry."}), 409)

    # A case resolved with a known fix instead of escalating, then reopened.
    known = open_case(rec, "engineer", serial_number="ACME-0001", severity="S3",
                      title="Stack unit restarts when many multicast groups join",
                      description="Slot 3 of the X465 stack reloads daily when IGMP snooping has thousands of groups.")
    known_url = f"/api/v1/cases/{known['id']}"
    expect(rec.call("engineer", "POST", f"{known_url}/resolution", json_body={"anomaly_id": "EXOS-31207"}), 422)
    expect(rec.call("engineer", "PUT", f"{known_url}/checklist/release_notes_reviewed", json_body={
        "value": {"rulings": [{"anomaly_id": "EXOS-31207", "ruling": "matches"}]}}), 200)
    expect(rec.call("engineer", "GET", f"{known_url}/triage"), 200)
    expect(rec.call("customer", "POST", f"{known_url}/resolution", json_body={"anomaly_id": "EXOS-31207"}), 403)
    expect(rec.call("engineer", "POST", f"{known_url}/resolution", json_body={}), 400)
    expect(rec.call("engineer", "POST", f"{known_url}/resolution",
                    json_body={"anomaly_id": "EXOS-31207", "note": "Planned for Saturday's maintenance window."}), 201)
    expect(rec.call("engineer", "POST", f"{known_url}/resolution", json_body={"anomaly_id": "EXOS-31207"}), 409)
    expect(escalate(rec, "engineer", known["id"], key="k-resolved"), 409)
    expect(rec.call("customer", "GET", f"{known_url}/messages"), 200)
    expect(rec.call("engineer", "POST", f"{known_url}/reopening", json_body={"reason": ""}), 400)
    expect(rec.call("contoso", "POST", f"{known_url}/reopening", json_body={"reason": "Not mine."}), 404)
    expect(rec.call("customer", "POST", f"{known_url}/reopening", json_body={"reason": "Still broken."}), 403)
    expect(rec.call("engineer", "POST", f"{known_url}/reopening",
                    json_body={"reason": "The upgrade did not stop the restarts."}), 200)
    expect(rec.call("engineer", "POST", f"{known_url}/reopening", json_body={"reason": "Again."}), 409)
    expect(rec.call("engineer", "GET", f"{known_url}/triage"), 200)
    expect(rec.call("engineer", "GET", known_url), 200)

    # A PW partner, an expired certification, an S2: every reason at once.
    contoso_case = open_case(rec, "contoso", serial_number="FAB-0002", severity="S2",
                             title="VSP drops ISIS adjacency", description="ISIS adjacency lost after a reboot.")
    expect(escalate(rec, "contoso", contoso_case["id"]), 422)
    for who in ("engineer", "customer", "contoso", "fabrikam", "gtac", "manager"):
        expect(rec.call(who, "GET", "/api/v1/cases"), 200)
    rec.finish()


def test_gtac_journey(recorder, demo, receiver):
    """SRs as GTAC and the partner work them, RMAs, files on the SR thread, and partner webhooks."""
    rec = recorder("gtac")
    hooks = "/api/v1/webhooks"
    ok = expect(rec.call("admin", "POST", hooks, json_body={"url": f"{receiver.url}/ok"}), 201).json
    receiver.secrets["/ok"] = ok["secret"]
    failing = expect(rec.call("admin", "POST", hooks, json_body={"url": f"{receiver.url}/failing"}), 201).json
    receiver.secrets["/failing"] = failing["secret"]
    expect(rec.call("admin", "POST", hooks, json_body={"url": "ftp://psa.northwind.example/hooks"}), 422)
    expect(rec.call("admin", "POST", hooks, json_body={"url": "not a url"}), 400)
    expect(rec.call("engineer", "POST", hooks, json_body={"url": f"{receiver.url}/ok"}), 403)
    expect(rec.call("admin", "GET", hooks), 200)
    expect(rec.call("gtac", "GET", hooks), 403)

    # Two escalations: a hardware S2 and a software S1.
    hardware = open_case(rec, "engineer", serial_number="ACME-0003", severity="S2", hardware_issue=True,
                         title="Port 1:49 fails negotiation", description="Port 1:49 no longer negotiates any speed.")
    complete_checklist(rec, "engineer", hardware["id"])
    first = expect(escalate(rec, "engineer", hardware["id"], key="hw-1"), 201).json["sr_number"]
    software = open_case(rec, "engineer", serial_number="ACME-0002", severity="S1",
                         title="Core switch down after upgrade", description="The core switch is down: network down.")
    complete_checklist(rec, "engineer", software["id"])
    second = expect(escalate(rec, "engineer", software["id"], body={"note": "Network down since 08:00."}),
                    201).json["sr_number"]
    rec.deliveries()

    # Lists and reads: GTAC sees all, the partner its own, nobody else any.
    srs = "/api/v1/srs"
    for who, status in (("gtac", 200), ("manager", 200), ("engineer", 200), ("admin", 200), ("contoso", 200),
                        ("customer", 403), ("programs", 403)):
        expect(rec.call(who, "GET", srs), status)
    for query in ({"queue": "EXOS-EMEA"}, {"status": "new"}, {"severity": "S1"}, {"breached": "true"},
                  {"breached": "false"}):
        expect(rec.call("gtac", "GET", srs, query=query), 200)
    page = expect(rec.call("gtac", "GET", srs, query={"limit": 1}), 200).json
    expect(rec.call("gtac", "GET", srs, query={"limit": 1, "cursor": page["next_cursor"]}), 200)
    expect(rec.call("gtac", "GET", srs, query={"status": "sleeping"}), 400)
    sr1, sr2 = f"{srs}/{first}", f"{srs}/{second}"
    for who, status in (("gtac", 200), ("engineer", 200), ("contoso", 404), ("customer", 404), ("programs", 404)):
        expect(rec.call(who, "GET", sr1), status)
    expect(rec.call("gtac", "GET", f"{srs}/SR99999999"), 404)

    # The hardware SR: taken, worked, waiting for the partner (the clock pauses), answered.
    move = f"{sr1}/transitions"
    expect(rec.call("gtac", "POST", move, json_body={"to": "in_progress"}), 409)
    expect(rec.call("engineer", "POST", move, json_body={"to": "assigned"}), 403)
    expect(rec.call("gtac", "POST", move, json_body={"to": "teleported"}), 400)
    expect(rec.call("gtac", "POST", move, json_body={"to": "assigned", "note": "Taking it."}), 200)
    expect(rec.call("gtac", "POST", move, json_body={"to": "in_progress"}), 200)
    expect(rec.call("gtac", "POST", move, json_body={"to": "awaiting_partner", "note": "Please send show port."}),
           200)
    rec.clock.advance(hours=3)
    expect(rec.call("gtac", "GET", sr1), 200)
    expect(rec.call("engineer", "POST", move, json_body={"to": "in_progress", "note": "Output attached."}), 200)
    expect(rec.call("gtac", "POST", move, json_body={"to": "solution_provided"}), 400)
    expect(rec.call("gtac", "POST", move, json_body={"to": "solution_provided",
                                                      "solution": {"kind": "rma", "content": "Replace the unit."}}),
           422)

    # Files on the SR thread: the partner's and GTAC's, never the customer's.
    files = f"{sr1}/attachments"
    mine = expect(upload(rec, "gtac", files, kind="other", filename="debug-commands.txt",
                         content="debug hal show port 1:49\n"), 201).json
    expect(upload(rec, "engineer", files, kind="support_bundle", filename="bundle.txt",
                  content="show tech-support output\n"), 201)
    expect(upload(rec, "customer", files), 404)
    expect(upload(rec, "gtac", files, kind="diary"), 400)
    for who, status in (("engineer", 200), ("gtac", 200), ("customer", 404), ("contoso", 404)):
        expect(rec.call(who, "GET", files), status)
    expect(rec.call("engineer", "GET", f"{files}/{mine['id']}"), 200)
    expect(rec.call("engineer", "GET", f"{files}/{mine['id']}/content"), 200)
    expect(rec.call("customer", "GET", f"{files}/{mine['id']}/content"), 404)
    expect(rec.call("gtac", "GET", f"{files}/999999"), 404)
    expect(rec.call("customer", "GET", f"/api/v1/cases/{hardware['id']}/attachments"), 200)
    expect(rec.call("customer", "GET", f"/api/v1/cases/{hardware['id']}/attachments/{mine['id']}"), 404)

    # An RMA: requested by the partner, decided and shipped by GTAC, received.
    item = {"serial_number": "ACME-0003", "failure_description": "Port 1:49 fails link negotiation."}
    rmas = f"{sr1}/rmas"
    expect(rec.call("engineer", "POST", rmas, json_body={"ship_to": SHIP_TO, "items": [
        item, {"serial_number": "FAB-0001", "failure_description": "Not ours at all, refused."}]}), 422)
    expect(rec.call("engineer", "POST", rmas, json_body={"ship_to": SHIP_TO, "items": []}), 400)
    expect(rec.call("gtac", "POST", rmas, json_body={"ship_to": SHIP_TO, "items": [item]}), 403)
    expect(rec.call("engineer", "POST", f"{sr2}/rmas", json_body={"ship_to": SHIP_TO, "items": [item]}), 422)
    expect(rec.call("contoso", "POST", rmas, json_body={"ship_to": SHIP_TO, "items": [item]}), 404)
    rma = expect(rec.call("engineer", "POST", rmas, json_body={"ship_to": SHIP_TO, "items": [
        item, {"serial_number": "ACME-0004", "failure_description": "PSU 2 dead after the storm."}]}), 201).json
    url = f"/api/v1/rmas/{rma['rma_number']}"
    for who, status in (("engineer", 200), ("gtac", 200), ("customer", 404), ("contoso", 404)):
        expect(rec.call(who, "GET", url), status)
    expect(rec.call("gtac", "GET", "/api/v1/rmas/RMA99999999"), 404)
    steps = f"{url}/transitions"
    expect(rec.call("engineer", "POST", steps, json_body={"to": "approved"}), 403)
    expect(rec.call("gtac", "POST", steps, json_body={"to": "shipped", "tracking": "1Z999AA10123456784"}), 409)
    expect(rec.call("gtac", "POST", steps, json_body={"to": "lost"}), 400)
    expect(rec.call("gtac", "POST", steps, json_body={"to": "approved", "note": "Replacement from Dublin."}), 200)
    expect(rec.call("gtac", "POST", steps, json_body={"to": "shipped"}), 422)
    expect(rec.call("gtac", "POST", steps, json_body={"to": "shipped", "tracking": "1Z999AA10123456784"}), 200)
    expect(rec.call("engineer", "POST", steps, json_body={"to": "received"}), 200)

    # The RMA as the solution; the partner closes, reopens, GTAC solves again, the partner accepts.
    expect(rec.call("gtac", "POST", move, json_body={"to": "solution_provided", "note": "Unit replaced.",
                                                      "solution": {"kind": "rma", "content": "Replaced the unit."}}),
           200)
    expect(rec.call("engineer", "POST", move, json_body={"to": "closed", "note": "Works again."}), 200)
    expect(rec.call("engineer", "POST", move, json_body={"to": "in_progress", "note": "It failed again."}), 200)
    expect(rec.call("gtac", "POST", move, json_body={"to": "solution_provided", "solution": {
        "kind": "workaround", "content": "Use port 1:50 until the second replacement arrives."}}), 200)
    expect(rec.call("manager", "POST", move, json_body={"to": "closed"}), 200)
    expect(rec.call("gtac", "POST", f"{sr1}/assignment", json_body={"assignee_id": demo["manager"].id}), 403)
    expect(rec.call("manager", "POST", f"{sr1}/assignment", json_body={"assignee_id": demo["gtac"].id}), 409)

    # The software SR: assigned by the manager, severity lowered, messages, management escalation.
    expect(rec.call("manager", "POST", f"{sr2}/assignment", json_body={"assignee_id": demo["engineer"].id}), 422)
    expect(rec.call("manager", "POST", f"{sr2}/assignment", json_body={}), 400)
    expect(rec.call("manager", "POST", f"{sr2}/assignment",
                    json_body={"assignee_id": demo["gtac"].id, "note": "Grace has the EXOS skills."}), 200)
    expect(rec.call("gtac", "POST", f"{sr2}/transitions", json_body={"to": "in_progress"}), 200)
    expect(rec.call("engineer", "POST", f"{sr2}/severity", json_body={"severity": "S2"}), 403)
    expect(rec.call("gtac", "POST", f"{sr2}/severity", json_body={"severity": "S7"}), 400)
    expect(rec.call("contoso", "POST", f"{sr2}/severity", json_body={"severity": "S3"}), 404)
    expect(rec.call("gtac", "POST", f"{sr1}/severity", json_body={"severity": "S3"}), 409)
    expect(rec.call("gtac", "POST", f"{sr1}/messages", json_body={"body": "Anything else on this one?"}), 409)
    expect(rec.call("gtac", "POST", f"{sr2}/severity",
                    json_body={"severity": "S2", "note": "A workaround restored the service."}), 200)
    talk = f"{sr2}/messages"
    expect(rec.call("engineer", "POST", talk, json_body={"body": "The customer asks for a root cause."}), 201)
    expect(rec.call("gtac", "POST", talk, json_body={"body": "Root cause analysis under way."}), 201)
    expect(rec.call("customer", "POST", talk, json_body={"body": "Me too."}), 404)
    expect(rec.call("gtac", "POST", talk, json_body={"body": ""}), 400)
    up = f"{sr2}/management-escalations"
    expect(rec.call("engineer", "POST", up, json_body={"level": 2, "reason": "Customer's CIO is asking daily."}), 201)
    expect(rec.call("admin", "POST", up, json_body={"level": 2, "reason": "Still waiting for news."}), 409)
    expect(rec.call("gtac", "POST", up, json_body={"level": 3, "reason": "GTAC asking itself."}), 403)
    expect(rec.call("engineer", "POST", up, json_body={"level": 4, "reason": "Way too high a level."}), 400)
    expect(rec.call("contoso", "POST", up, json_body={"level": 3, "reason": "Not my partner's SR."}), 404)
    expect(rec.call("engineer", "POST", f"{sr1}/management-escalations",
                    json_body={"level": 1, "reason": "Too late for this one."}), 409)

    # The timeline, as history and as a stream that replays it.
    for who, status in (("engineer", 200), ("gtac", 200), ("contoso", 404), ("customer", 404)):
        expect(rec.call(who, "GET", f"{sr1}/history"), status)
    expect(rec.call("engineer", "GET", f"{sr1}/history", query={"after": 5}), 200)
    expect(rec.call("engineer", "GET", f"{sr1}/history", query={"after": "soon"}), 400)
    expect(rec.call("engineer", "GET", f"{sr1}/events", query={"after": 0}), 200)
    expect(rec.call("gtac", "GET", f"{sr2}/events", headers={"Last-Event-ID": "3"}), 200)
    expect(rec.call("gtac", "GET", f"{sr2}/events"), 200)
    expect(rec.call("gtac", "GET", f"{sr2}/events", headers={"Last-Event-ID": "three"}), 400)
    expect(rec.call("contoso", "GET", f"{sr1}/events"), 404)

    # What the partner's endpoints received, and what the service says it delivered.
    rec.deliveries()
    for hook in (ok, failing):
        expect(rec.call("admin", "GET", f"{hooks}/{hook['id']}/deliveries"), 200)
    expect(rec.call("engineer", "GET", f"{hooks}/{ok['id']}/deliveries"), 403)
    expect(rec.call("admin", "GET", f"{hooks}/999999/deliveries"), 404)
    expect(rec.call("admin", "DELETE", f"{hooks}/{failing['id']}"), 200)
    expect(rec.call("admin", "DELETE", f"{hooks}/{failing['id']}"), 200)
    expect(rec.call("admin", "DELETE", f"{hooks}/999999"), 404)
    expect(rec.call("engineer", "DELETE", f"{hooks}/{ok['id']}"), 403)
    expect(rec.call("admin", "GET", hooks), 200)
    expect(rec.call("gtac", "POST", talk, json_body={"body": "Fix planned for 32.7.1."}), 201)
    rec.deliveries()

    for who in ("gtac", "manager", "engineer"):
        expect(rec.call(who, "GET", srs), 200)
    expect(rec.call("manager", "GET", sr2), 200)
    rec.finish()


def provider_webhook(rec, secret, event_id, kind, key, reason=None, provider="sandbox"):
    """A status webhook from the payments provider, signed now (the signature is not recorded)."""
    body = json.dumps({"id": event_id, "type": kind, "data": {"id": f"sbx_{key}", "reference": key,
                                                              "reason": reason}}, sort_keys=True)
    signature = signing.sign(secret, body.encode())
    return rec.call("anonymous", "POST", f"/webhooks/payments/{provider}", text=body, content_type="application/json",
                    headers={"Accept": "application/json"}, unrecorded_headers={signing.HEADER: signature})


def test_payments_journey(app, recorder, demo):
    """Claims, approvals (single, second, bulk), payouts through the provider, its webhooks, retries,
    funding, ledger balances, payee details, MDF allocations and reconciliation."""
    rec = recorder("payments")
    secret = app.config["PAYMENTS_WEBHOOK_SECRET"]
    northwind, contoso = demo["admin"].organisation_id, demo["contoso"].organisation_id
    acme = demo["customer"].organisation_id

    # What the demo starts with.
    balances(rec)
    expect(rec.call("admin", "GET", "/api/v1/ledger/balances"), 403)
    for who, status in (("programs", 200), ("admin", 200), ("engineer", 403), ("customer", 403), ("gtac", 403)):
        expect(rec.call(who, "GET", "/api/v1/claims"), status)
    submitted = expect(rec.call("programs", "GET", "/api/v1/claims", query={"status": "submitted"}), 200).json
    expect(rec.call("programs", "GET", "/api/v1/claims", query={"status": "pondering"}), 400)
    for who, status in (("programs", 200), ("admin", 200), ("engineer", 403)):
        expect(rec.call(who, "GET", "/api/v1/payouts"), status)
    expect(rec.call("admin", "GET", "/api/v1/payee"), 200)
    expect(rec.call("programs", "GET", "/api/v1/payee", query={"partner_id": northwind}), 200)
    expect(rec.call("programs", "GET", "/api/v1/payee", query={"partner_id": contoso}), 404)
    expect(rec.call("programs", "GET", "/api/v1/payee", query={"partner_id": "northwind"}), 400)
    expect(rec.call("engineer", "GET", "/api/v1/payee"), 403)
    expect(rec.call("customer", "GET", "/api/v1/payee"), 403)
    for who, status in (("programs", 200), ("admin", 200), ("engineer", 403)):
        expect(rec.call(who, "GET", "/api/v1/mdf-allocations"), status)

    # The demo's submitted claim, approved: its payout goes to the provider at once.
    first = submitted["items"][0]["id"]
    expect(rec.call("admin", "POST", f"/api/v1/claims/{first}/approve"), 403)
    expect(rec.call("programs", "POST", f"/api/v1/claims/{first}/approve"), 200)
    expect(rec.call("programs", "POST", f"/api/v1/claims/{first}/approve"), 409)
    expect(rec.call("programs", "POST", f"/api/v1/claims/{first}/reject", json_body={"reason": "Changed my mind."}),
           409)
    payout = expect(rec.call("programs", "GET", "/api/v1/payouts", query={"claim_id": first}), 200).json["items"][0]
    for who, status in (("programs", 200), ("admin", 200), ("engineer", 403)):
        expect(rec.call(who, "GET", f"/api/v1/payouts/{payout['id']}"), status)
    expect(rec.call("programs", "GET", "/api/v1/payouts/999999"), 404)
    balances(rec)

    # The provider's webhooks: paid, the same event again, a bad signature, an unknown provider.
    key = payout["provider_payout_id"].removeprefix("sbx_")
    expect(provider_webhook(rec, secret, "evt_0001", "payout.paid", key), 200)
    expect(provider_webhook(rec, secret, "evt_0001", "payout.paid", key), 200)
    expect(provider_webhook(rec, "not-the-secret", "evt_0002", "payout.paid", key), 401)
    expect(provider_webhook(rec, secret, "evt_0003", "payout.paid", "PO0000009999"), 200)
    expect(provider_webhook(rec, secret, "evt_0004", "payout.paid", key, provider="acme-pay"), 404)
    balances(rec)
    expect(rec.call("admin", "GET", f"/api/v1/claims/{first}"), 200)

    # A rebate claim: refused shapes and roles, drafted, submitted, rejected.
    claims = "/api/v1/claims"
    rebate = {"type": "rebate", "amount": 50_000, "currency": "USD", "period": "2026-Q3",
              "description": "Q3 2026 rebate: 20 X695 switches"}
    expect(rec.call("admin", "POST", claims, json_body={**rebate, "amount": 0, "currency": "usd", "period": "Q3"}),
           400)
    expect(rec.call("engineer", "POST", claims, json_body=rebate), 403)
    expect(rec.call("programs", "POST", claims, json_body=rebate), 403)
    claim = expect(rec.call("admin", "POST", claims, json_body=rebate), 201).json["id"]
    for who, status in (("admin", 200), ("programs", 200), ("engineer", 403), ("contoso", 404)):
        expect(rec.call(who, "GET", f"{claims}/{claim}"), status)
    expect(rec.call("programs", "POST", f"{claims}/{claim}/submit"), 403)
    expect(rec.call("programs", "POST", f"{claims}/{claim}/approve"), 409)
    expect(rec.call("admin", "POST", f"{claims}/{claim}/submit"), 200)
    expect(rec.call("admin", "POST", f"{claims}/{claim}/submit"), 409)
    expect(rec.call("programs", "POST", f"{claims}/{claim}/reject", json_body={"reason": "no"}), 400)
    expect(rec.call("admin", "POST", f"{claims}/{claim}/reject",
                    json_body={"reason": "Duplicate of an earlier claim."}), 403)
    expect(rec.call("programs", "POST", f"{claims}/{claim}/reject",
                    json_body={"reason": "Duplicate of an earlier claim."}), 200)
    expect(rec.call("programs", "POST", f"{claims}/{claim}/approve"), 409)
    expect(rec.call("programs", "POST", f"{claims}/999999/approve"), 404)

    # An MDF claim: proof of performance, the allocation, and a second approver above the threshold.
    mdf = {"type": "mdf", "amount": 2_000_000, "currency": "USD", "period": "2026-Q3",
           "description": "Q3 2026 roadshow in five cities"}
    proof = ("proof.pdf", b"%PDF-1.4 booth photos and attendee list")
    big = expect(rec.call("admin", "POST", claims, json_body=mdf), 201).json["id"]
    expect(rec.call("admin", "POST", f"{claims}/{big}/submit"), 422)
    expect(rec.call("admin", "POST", f"{claims}/{big}/attachments", form={}), 400)
    expect(rec.call("engineer", "POST", f"{claims}/{big}/attachments", files={"file": proof}), 403)
    expect(rec.call("contoso", "POST", f"{claims}/{big}/attachments", files={"file": proof}), 404)
    expect(rec.call("admin", "POST", f"{claims}/{big}/attachments", files={"file": proof}), 201)
    expect(rec.call("admin", "POST", f"{claims}/{claim}/attachments", files={"file": proof}), 409)
    expect(rec.call("admin", "POST", f"{claims}/{big}/submit"), 200)
    too_big = expect(rec.call("admin", "POST", claims, json_body={**mdf, "amount": 6_000_000}), 201).json["id"]
    expect(rec.call("admin", "POST", f"{claims}/{too_big}/attachments", files={"file": proof}), 201)
    expect(rec.call("admin", "POST", f"{claims}/{too_big}/submit"), 422)
    expect(rec.call("programs", "POST", f"{claims}/{big}/approve"), 200)
    expect(rec.call("programs", "POST", f"{claims}/{big}/approve"), 422)
    expect(rec.call("admin", "GET", "/api/v1/mdf-allocations"), 200)

    # Bulk approval: all or none.
    ids = []
    for amount in (10_000, 20_000):
        ids.append(expect(rec.call("admin", "POST", claims, json_body={**rebate, "amount": amount}), 201).json["id"])
        expect(rec.call("admin", "POST", f"{claims}/{ids[-1]}/submit"), 200)
    approvals = f"{claims}/approvals"
    expect(rec.call("programs", "POST", approvals, json_body={"claim_ids": [*ids, claim, big]}), 422)
    expect(rec.call("programs", "POST", approvals, json_body={"claim_ids": []}), 400)
    expect(rec.call("programs", "POST", approvals, json_body={"claim_ids": [ids[0], ids[0]]}), 400)
    expect(rec.call("admin", "POST", approvals, json_body={"claim_ids": ids}), 403)
    expect(rec.call("programs", "POST", approvals, json_body={"claim_ids": ids}), 200)

    # Bank details the provider refuses: the payout fails; fixed, it is retried and goes out.
    payee = "/api/v1/payee"
    expect(rec.call("admin", "PUT", payee, json_body={"kind": "iban", "holder_name": "Northwind Networks Ltd",
                                                      "iban": "GB00 NOT AN IBAN", "bic": "BUKBGB22"}), 400)
    expect(rec.call("programs", "PUT", payee, json_body={"kind": "aba", "holder_name": "Northwind Networks Inc",
                                                         "account_number": "123456789",
                                                         "routing_number": "021000021"}), 403)
    expect(rec.call("admin", "PUT", payee, json_body={"kind": "aba", "holder_name": "Northwind Networks Inc",
                                                      "account_number": "123456789", "routing_number": "021000021"}),
           200)
    refused = expect(rec.call("admin", "POST", claims, json_body={**rebate, "amount": 30_000}), 201).json["id"]
    expect(rec.call("admin", "POST", f"{claims}/{refused}/attachments", files={"file": proof}), 422)
    expect(rec.call("admin", "POST", f"{claims}/{refused}/submit"), 200)
    expect(rec.call("programs", "POST", f"{claims}/{refused}/approve"), 200)
    failed = expect(rec.call("programs", "GET", "/api/v1/payouts", query={"claim_id": refused}),
                    200).json["items"][0]["id"]
    expect(rec.call("admin", "POST", f"/api/v1/payouts/{failed}/retry"), 403)
    expect(rec.call("programs", "POST", "/api/v1/payouts/999999/retry"), 404)
    expect(rec.call("programs", "POST", f"/api/v1/payouts/{failed}/retry"), 200)
    expect(rec.call("admin", "PUT", payee, json_body={"kind": "iban", "holder_name": "Northwind Networks Ltd",
                                                      "iban": "GB33BUKB20201555555555", "bic": "BUKBGB22"}), 200)
    expect(rec.call("programs", "POST", f"/api/v1/payouts/{failed}/retry"), 200)
    expect(rec.call("programs", "POST", f"/api/v1/payouts/{failed}/retry"), 409)
    expect(rec.call("admin", "GET", payee), 200)

    # A deposit.
    deposit = {"amount": 100_000, "currency": "USD", "reference": "USD-DEPOSIT-0002"}
    expect(rec.call("admin", "POST", "/api/v1/funding", json_body=deposit), 403)
    expect(rec.call("programs", "POST", "/api/v1/funding", json_body={**deposit, "amount": -5}), 400)
    expect(rec.call("programs", "POST", "/api/v1/funding", json_body={**deposit, "reference": "no; semicolons"}), 400)
    expect(rec.call("programs", "POST", "/api/v1/funding", json_body=deposit), 201)
    expect(rec.call("programs", "POST", "/api/v1/funding", json_body=deposit), 200)

    # The paid payout returned by the partner's bank, and sent again.
    expect(provider_webhook(rec, secret, "evt_0005", "payout.returned", key, reason="Account closed."), 200)
    expect(rec.call("admin", "GET", f"/api/v1/payouts/{payout['id']}"), 200)
    expect(rec.call("programs", "POST", f"/api/v1/payouts/{payout['id']}/retry"), 200)

    # MDF allocations.
    allocations = "/api/v1/mdf-allocations"
    allocation = {"partner_id": contoso, "period": "2026-Q4", "currency": "USD", "amount": 1_000_000}
    expect(rec.call("programs", "PUT", allocations, json_body=allocation), 200)
    expect(rec.call("programs", "PUT", allocations, json_body={**allocation, "amount": 1_500_000}), 200)
    expect(rec.call("programs", "PUT", allocations, json_body={**allocation, "partner_id": acme}), 404)
    expect(rec.call("programs", "PUT", allocations, json_body={**allocation, "period": "Q4 2026"}), 400)
    expect(rec.call("admin", "PUT", allocations, json_body=allocation), 403)
    expect(rec.call("programs", "GET", allocations, query={"partner_id": contoso}), 200)
    expect(rec.call("programs", "GET", allocations, query={"partner_id": 0}), 400)
    expect(rec.call("programs", "GET", allocations), 200)

    # Payouts as each side sees them.
    expect(rec.call("programs", "GET", "/api/v1/payouts", query={"status": "in_transit"}), 200)
    expect(rec.call("programs", "GET", "/api/v1/payouts", query={"status": "lost"}), 400)
    page = expect(rec.call("programs", "GET", "/api/v1/payouts", query={"limit": 2}), 200).json
    expect(rec.call("programs", "GET", "/api/v1/payouts", query={"limit": 2, "cursor": page["next_cursor"]}), 200)
    expect(rec.call("admin", "GET", "/api/v1/payouts"), 200)

    # Reconciliation of a provider statement.
    statements = "/api/v1/reconciliation/statements"
    in_transit = expect(rec.call("programs", "GET", "/api/v1/payouts", query={"status": "in_transit"}),
                        200).json["items"]
    lines = ["provider_payout_id,reference,amount,currency,status"]
    for n, sent in enumerate(in_transit):
        sent_key = sent["provider_payout_id"].removeprefix("sbx_")
        amount = sent["amount"] - 1 if n == 0 else sent["amount"]
        lines.append(f"{sent['provider_payout_id']},{sent_key},{amount},{sent['currency']},processing")
    lines.append("sbx_other,PO0000009999,10,USD,paid")
    statement = ("statement.csv", ("\n".join(lines) + "\n").encode())
    imported = expect(rec.call("programs", "POST", statements, files={"file": statement}), 201).json
    expect(rec.call("programs", "GET", f"{statements}/{imported['id']}"), 200)
    expect(rec.call("admin", "GET", f"{statements}/{imported['id']}"), 403)
    expect(rec.call("programs", "GET", f"{statements}/999999"), 404)
    expect(rec.call("programs", "POST", statements, files={"file": ("bad.csv", b"reference,amount\nPO1,ten\n")}), 400)
    expect(rec.call("admin", "POST", statements, files={"file": statement}), 403)

    for who in ("programs", "admin"):
        expect(rec.call(who, "GET", "/api/v1/claims"), 200)
        expect(rec.call(who, "GET", "/api/v1/payouts"), 200)
    expect(rec.call("programs", "GET", "/api/v1/claims", query={"type": "mdf"}), 200)
    balances(rec)
    rec.finish()


def test_funding_journey(recorder, demo):
    """Payouts in a currency with no funds wait, in order of approval; deposits release them.

    Recorded once per database: the first approval that finds the money short is
    rolled back and redone with the balance locked, and a PostgreSQL sequence does
    not give back the payout id the rolled-back attempt drew, where SQLite does.
    """
    rec = recorder("funding", per_database=True)
    claims = "/api/v1/claims"
    euro = {"type": "rebate", "currency": "EUR", "period": "2026-Q3", "description": "Q3 2026 rebate in euros"}
    waiting = []
    for amount in (75_000, 40_000):
        claim = expect(rec.call("admin", "POST", claims, json_body={**euro, "amount": amount}), 201).json["id"]
        expect(rec.call("admin", "POST", f"{claims}/{claim}/submit"), 200)
        expect(rec.call("programs", "POST", f"{claims}/{claim}/approve"), 200)
        waiting.append(claim)
    expect(rec.call("programs", "GET", "/api/v1/payouts", query={"status": "awaiting_funds"}), 200)
    expect(rec.call("admin", "GET", f"{claims}/{waiting[0]}"), 200)
    balances(rec)
    # The first deposit covers the older payout only: the younger one is not sent ahead of it.
    expect(rec.call("programs", "POST", "/api/v1/funding",
                    json_body={"amount": 100_000, "currency": "EUR", "reference": "EUR-DEPOSIT-0001"}), 201)
    for status in ("awaiting_funds", "in_transit"):
        expect(rec.call("programs", "GET", "/api/v1/payouts", query={"status": status}), 200)
    expect(rec.call("programs", "POST", "/api/v1/funding",
                    json_body={"amount": 20_000, "currency": "EUR", "reference": "EUR-DEPOSIT-0002"}), 201)
    expect(rec.call("programs", "GET", "/api/v1/payouts"), 200)
    expect(rec.call("admin", "GET", claims, query={"status": "payout_pending"}), 200)
    balances(rec)
    rec.finish()
