"""Structured logs: JSON lines carrying the request id, which the answer, its error body and the jobs the
request causes all share; and no secret in any line of a journey that handles every kind of secret."""
from __future__ import annotations

import base64
import json
import logging

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.logs import JsonLines
from app.outbox.models import OutboxEvent
from tests.case_helpers import new_case
from tests.conftest import basic
from tests.web.helpers import csrf_token

PASSWORD = "demo-password"
WRONG_PASSWORD = "Wr0ng-but-secret-passphrase"
IBAN = "DE89370400440532013000"


@pytest.fixture
def log_lines():
    """Every log line written while the test runs, formatted as production writes them."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_request_keeps_the_callers_id_and_echoes_it(client, tokens):
    answer = client.get("/api/v1/cases/999999", headers={**tokens["engineer"], "X-Request-ID": "psa-7781.a"})
    assert answer.status_code == 404
    assert answer.headers["X-Request-ID"] == "psa-7781.a"
    assert answer.json["error"]["request_id"] == "psa-7781.a"


def test_an_unusable_id_is_replaced_and_every_request_has_one(client, tokens):
    for offered in ("", "x" * 129, "two words", "<script>", "ü-id"):
        answer = client.get("/api/v1/me", headers={**tokens["engineer"], "X-Request-ID": offered})
        made = answer.headers["X-Request-ID"]
        assert made != offered and len(made) == 32 and made.isalnum()
    # Refused before authentication, too: the id is the first thing a request gets.
    refused = client.get("/api/v1/me")
    assert refused.status_code == 401 and refused.json["error"]["request_id"] == refused.headers["X-Request-ID"]
    assert client.get("/api/v1/me").headers["X-Request-ID"] != refused.headers["X-Request-ID"]


def test_log_lines_are_json_with_the_request_id_and_jobs_log_under_it(app, client, tokens, log_lines):
    case = new_case(client, tokens["engineer"], title="Stack member reboots")
    answer = client.post(f"/api/v1/cases/{case['id']}/messages", json={"channel": "customer", "body": "Looking."},
                         headers={**tokens["engineer"], "X-Request-ID": "trace-42"})
    assert answer.status_code == 201
    with app.app_context():
        events = db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.request_id == "trace-42")).all()
        assert [event.topic for event in events] == ["notify.message_posted"]
        assert events[0].processed_at is not None  # its job ran (in-process here) ...
        db.session.remove()
    parsed = [json.loads(line) for line in log_lines]
    assert all({"at", "level", "logger", "message"} <= set(entry) for entry in parsed)
    # ... and the e-mail it sent is logged under the id of the request that caused it.
    mailed = [entry for entry in parsed if entry["message"].startswith("e-mail") and "New message" in entry["message"]]
    assert mailed and {entry.get("request_id") for entry in mailed} == {"trace-42"}


def test_no_secret_reaches_a_log_line(app, client, tokens, log_lines, monkeypatch):
    monkeypatch.setitem(app.config, "SR_WEBHOOK_ALLOW_PRIVATE", True)  # no public host in a test
    # A failed and a good sign-in, through the API and the form.
    wrong = base64.b64encode(f"admin@northwind.example:{WRONG_PASSWORD}".encode()).decode()
    assert client.post("/api/v1/tokens", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    issued = client.post("/api/v1/tokens", headers=basic("admin@northwind.example"))
    secret = issued.json["token"]
    bearer = {"Authorization": f"Bearer {secret}"}
    page = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"email": "admin@northwind.example", "password": PASSWORD,
                                       "csrf_token": csrf_token(page)}).status_code == 302
    session_cookie = client.get_cookie("session")
    # Bank details and a webhook's signing secret.
    assert client.put("/api/v1/payee", headers=bearer, json={
        "kind": "iban", "holder_name": "Northwind Networks Ltd", "iban": IBAN, "bic": "COBADEFFXXX"}
                      ).status_code == 200
    hook = client.post("/api/v1/webhooks", headers=bearer, json={"url": "http://127.0.0.1:9/hook"})
    assert hook.status_code == 201, hook.json
    # A request that fails loudly, with the token in its headers.
    assert client.get("/api/v1/cases/0", headers=bearer).status_code == 404
    assert log_lines, "the journey logged nothing: the check below would prove nothing"
    written = "\n".join(log_lines)
    secrets = {"password": PASSWORD, "wrong password": WRONG_PASSWORD, "API token": secret,
               "token body": secret.removeprefix("gtac_"), "session cookie": session_cookie.value if session_cookie
               else "no-session-cookie", "IBAN": IBAN, "IBAN digits": IBAN[4:],
               "webhook secret": hook.json["secret"]}
    leaked = {name for name, value in secrets.items() if value in written}
    assert not leaked, leaked
