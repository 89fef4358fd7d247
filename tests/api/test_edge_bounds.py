"""Bounds at the edge: what no client may send gets a 400 with the error body, never a 500.

Numbers beyond the id columns (2^31 fails on PostgreSQL, 2^63 on SQLite), JSON nested
too deep, NUL wherever text comes in, a trailing newline after a pattern, digits that
are not ASCII, malformed statements and webhook URLs, and the payment provider's webhook
endpoint, which answers JSON whatever the client asks for.
"""
from __future__ import annotations

import ipaddress
import json

import pytest

from app.bounds import MAX_ID, MAX_JSON_DEPTH
from app.payments import signing
from app.webhooks.urls import refusal
from tests.api.conftest import assert_error, check_each
from tests.web.helpers import sign_in

# Not an id, in a query string: beyond the columns, not ASCII digits, not a whole number.
QUERY_NOT_IDS = [str(MAX_ID + 1), str(2**63), "9" * 30, "9" * 5000, "\u00b9", "\u0661", "1\u00b2", "-1",
                 "1.0", "0x10", " 1"]
# Not an id, in a JSON body.
BODY_NOT_IDS = [MAX_ID + 1, 2**63, 10**30, -1, 0, True, "1", 1.5]

ID_QUERIES = [
    ("gtac", "/api/v1/srs", "assignee_id"),
    ("gtac", "/api/v1/srs/SR00000001/history", "after"),
    ("gtac", "/api/v1/srs/SR00000001/events", "after"),
    ("programs", "/api/v1/payouts", "claim_id"),
    ("programs", "/api/v1/mdf-allocations", "partner_id"),
    ("programs", "/api/v1/payee", "partner_id"),
    ("engineer", "/api/v1/cases", "limit"),
]


def test_ids_and_counts_in_query_strings_are_bounded(client, tokens):
    def check(who, path, name, value):
        error = assert_error(client.get(path, query_string={name: value}, headers=tokens[who]), 400,
                             "invalid_input")
        assert name in error["details"]["fields"], error

    check_each([(who, path, name, value) for who, path, name in ID_QUERIES for value in QUERY_NOT_IDS],
               check, describe=lambda who, path, name, value: f"{path}?{name}={value[:20]!r}")


def test_the_largest_id_is_an_ordinary_query(client, tokens):
    """The bound is the columns' own: MAX_ID itself reaches the database and finds nothing."""
    for who, path, name in ID_QUERIES[:1] + ID_QUERIES[3:6]:
        answer = client.get(path, query_string={name: str(MAX_ID)}, headers=tokens[who])
        assert answer.status_code in (200, 404), (path, answer.status_code, answer.get_data(as_text=True)[:300])
    assert client.get("/api/v1/srs", query_string={"assignee_id": MAX_ID}, headers=tokens["gtac"]
                      ).json["items"] == []


def _bodies(value) -> list[tuple[str, str, str, dict, str]]:
    return [
        ("manager", "POST", "/api/v1/srs/SR00000001/transitions", {"to": "assigned", "assignee_id": value},
         "assignee_id"),
        ("manager", "POST", "/api/v1/srs/SR00000001/assignment", {"assignee_id": value}, "assignee_id"),
        ("programs", "PUT", "/api/v1/mdf-allocations",
         {"partner_id": value, "period": "2026-Q3", "currency": "USD", "amount": 1000}, "partner_id"),
        ("programs", "POST", "/api/v1/claims/approvals", {"claim_ids": [value]}, "claim_ids"),
        ("manager", "POST", "/api/v1/srs/SR00000001/management-escalations",
         {"level": value, "reason": "Customer escalated to the CIO."}, "level"),
    ]


def test_ids_in_bodies_are_bounded(client, tokens, row_counts):
    before = row_counts()

    def check(who, method, path, body, name):
        error = assert_error(client.open(path, method=method, json=body, headers=tokens[who]), 400,
                             "invalid_input")
        assert name in error["details"]["fields"], error

    check_each([row for value in BODY_NOT_IDS for row in _bodies(value)], check,
               describe=lambda who, method, path, body, name: f"{method} {path} {name}={body.get(name)!r:.30}")
    assert row_counts() == before


@pytest.fixture
def checklist_case(client, tokens):
    return client.get("/api/v1/cases?limit=1", headers=tokens["engineer"]).json["items"][0]["id"]


def test_attachment_ids_of_a_checklist_answer_are_bounded(client, tokens, checklist_case, row_counts):
    before = row_counts()
    for ids in ([MAX_ID + 1], [2**63], [1, 10**30], [0], [True]):
        answer = client.put(f"/api/v1/cases/{checklist_case}/checklist/logs_gathered",
                            json={"value": {"attachment_ids": ids}}, headers=tokens["engineer"])
        assert_error(answer, 400, "invalid_value")
    assert row_counts() == before
    # The largest id is looked up like any other: not on this case.
    answer = client.put(f"/api/v1/cases/{checklist_case}/checklist/logs_gathered",
                        json={"value": {"attachment_ids": [MAX_ID]}}, headers=tokens["engineer"])
    assert_error(answer, 422, "attachment_not_found")


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_json_bodies_nested_beyond_the_limit_are_400(client, tokens):
    for depth in (MAX_JSON_DEPTH + 1, 5000):
        body = '{"serial_number": "ACME-0005", "title": ' + "[" * depth + "]" * depth + "}"
        answer = client.post("/api/v1/cases", data=body, content_type="application/json",
                             headers=tokens["engineer"])
        assert_error(answer, 400)


# --- NUL wherever text comes in -----------------------------------------------------------------

def test_nul_in_a_path_query_or_body_is_400(client, tokens, checklist_case, row_counts):
    before = row_counts()
    assert_error(client.get("/api/v1/srs/SR0000%00001", headers=tokens["gtac"]), 400, "invalid_input")
    assert_error(client.get("/api/v1/rmas/RMA%00", headers=tokens["gtac"]), 400, "invalid_input")
    assert_error(client.put(f"/api/v1/cases/{checklist_case}/checklist/logs%00gathered",
                            json={"value": True}, headers=tokens["engineer"]), 400, "invalid_input")
    assert_error(client.get("/api/v1/srs", query_string={"queue": "EX\x00OS"}, headers=tokens["gtac"]),
                 400, "invalid_input")
    assert_error(client.put(f"/api/v1/cases/{checklist_case}/checklist/problem_statement",
                            json={"value": "a\x00b"}, headers=tokens["engineer"]), 400, "invalid_input")
    assert row_counts() == before


def test_nul_in_a_page_form_or_query_is_400(app, tokens, checklist_case, row_counts):
    client = app.test_client()
    token = sign_in(client, "engineer")
    before = row_counts()
    assert client.get("/cases", query_string={"q": "fan\x00"}).status_code == 400
    answer = client.post(f"/cases/{checklist_case}/messages",
                         data={"csrf_token": token, "channel": "internal", "body": "a\x00b"})
    assert answer.status_code == 400
    assert row_counts() == before
    # The same form without the NUL goes through: the 400 was the NUL's doing.
    answer = client.post(f"/cases/{checklist_case}/messages",
                         data={"csrf_token": token, "channel": "internal", "body": "ab"})
    assert answer.status_code in (200, 302, 303), answer.status_code


def test_nul_in_a_multipart_page_form_or_its_file_name_is_400(app, client, tokens, checklist_case, row_counts):
    from io import BytesIO

    from tests.web.helpers import csrf_token

    web = app.test_client()
    before = row_counts()
    # Before anyone signs in: the form's fields as multipart are checked as the urlencoded ones are.
    token = csrf_token(web.get("/login").get_data(as_text=True))
    answer = web.post("/login", content_type="multipart/form-data", data={
        "csrf_token": token, "email": "engineer@northwind.example\x00", "password": "demo-password"})
    assert answer.status_code == 400
    token = sign_in(web, "engineer")
    answer = web.post(f"/cases/{checklist_case}/messages", content_type="multipart/form-data",
                      data={"csrf_token": token, "channel": "internal", "body": "a\x00b"})
    assert answer.status_code == 400
    assert row_counts() == {**before, "web_sessions": before["web_sessions"] + 1}  # the sign-in's alone
    admin = app.test_client()
    token = sign_in(admin, "admin")
    claim = client.post("/api/v1/claims", headers=tokens["admin"], json={
        "type": "mdf", "amount": 1000, "currency": "USD", "period": "2026-Q3", "description": "Booth"}).json["id"]
    before = row_counts()
    answer = admin.post(f"/payments/claims/{claim}/proof", content_type="multipart/form-data",
                        data={"csrf_token": token, "file": (BytesIO(b"%PDF-1.4 proof"), "proof\x00.pdf")})
    assert answer.status_code == 400
    assert row_counts() == before


# --- Patterns matched whole, digits in ASCII -----------------------------------------------------

def test_a_trailing_newline_does_not_pass_a_pattern(client, tokens, row_counts):
    before = row_counts()
    for who, method, path, body, name in [
        ("programs", "PUT", "/api/v1/mdf-allocations",
         {"partner_id": 1, "period": "2026-Q3\n", "currency": "USD", "amount": 1000}, "period"),
        ("engineer", "POST", "/api/v1/cases",
         {"serial_number": "ACME-0005", "software_version": "32.6.1.4\n", "severity": "S3",
          "title": "Optics report low light", "description": "Port 1:50 shows rx power -19 dBm."},
         "software_version"),
        ("programs", "POST", "/api/v1/funding",
         {"amount": 1000, "currency": "USD", "reference": "DEP-2026-11\n"}, "reference"),
        ("admin", "POST", "/api/v1/claims",
         {"type": "mdf", "amount": 1000, "currency": "USD", "period": "2026-Q3\n", "description": "Booth"},
         "period"),
    ]:
        error = assert_error(client.open(path, method=method, json=body, headers=tokens[who]), 400,
                             "invalid_input")
        assert name in error["details"]["fields"], error
    assert row_counts() == before


def test_bank_details_take_ascii_digits_only(client, tokens, row_counts):
    before = row_counts()
    good = {"kind": "aba", "holder_name": "Northwind Networks", "account_number": "12345678",
            "routing_number": "011000015"}
    for name, value in [("routing_number", "01100001\u2075"), ("routing_number", "\u0660\u0661\u0661000015"),
                        ("account_number", "\u0661\u0662\u0663\u0664\u0665\u0666"),
                        ("account_number", "1234\u00b9")]:
        answer = client.put("/api/v1/payee", json={**good, name: value}, headers=tokens["admin"])
        error = assert_error(answer, 400, "invalid_input")
        assert name in error["details"]["fields"], error
    assert row_counts() == before
    assert client.put("/api/v1/payee", json=good, headers=tokens["admin"]).status_code == 200


# --- Statements ---------------------------------------------------------------------------------

HEADER = "provider_payout_id,reference,amount,currency,status\n"


@pytest.mark.parametrize("label, statement, line", [
    ("superscript digit", HEADER + "sbx_1,PO0000000001,100,USD,paid\nsbx_2,PO0000000002,1\u00b2,USD,paid\n", 3),
    ("5000-digit amount", HEADER + "sbx_1,PO0000000001," + "9" * 5000 + ",USD,paid\n", 2),
    ("amount beyond any claim", HEADER + "sbx_1,PO0000000001," + "9" * 14 + ",USD,paid\n", 2),
    ("Arabic-Indic digits", HEADER + "sbx_1,PO0000000001,\u0661\u0660\u0660,USD,paid\n", 2),
    ("short line", HEADER + "sbx_1,PO0000000001,100,USD,paid\nsbx_2,PO0000000002\n", 3),
    ("field over 128 KiB", HEADER + "sbx_1,PO0000000001,100,USD,\"" + "p" * (129 * 1024) + "\"\n", 2),
    ("long unquoted field", HEADER + "x" * 2000 + ",PO0000000001,100,USD,paid\n", 2),
    ("NUL", HEADER + "sbx_1,PO00\x0000001,100,USD,paid\n", 2),
    ("unterminated quote", HEADER + "sbx_1,\"PO0000000001,100,USD,paid\n", 2),
])
def test_a_malformed_statement_line_is_400_naming_the_line(client, tokens, label, statement, line):
    from io import BytesIO

    answer = client.post("/api/v1/reconciliation/statements", headers=tokens["programs"],
                         data={"file": (BytesIO(statement.encode()), "statement.csv")},
                         content_type="multipart/form-data")
    error = assert_error(answer, 400, "invalid_statement")
    assert error["details"]["line"] == line, error
    assert error["message"].startswith(f"Line {line}: "), error


# --- Webhook addresses --------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://[::1", "http://[::1/hook", "http://[not-an-address]/", "https://[::1]:x/",
                                 "http://h\x00st/"])
def test_a_malformed_webhook_url_is_400(client, tokens, url):
    answer = client.post("/api/v1/webhooks", json={"url": url}, headers=tokens["admin"])
    assert_error(answer, 400, "invalid_input")


@pytest.mark.parametrize("address, reason", [
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
    ("2002:c0a8:101::", "private"),  # 6to4 of 192.168.1.1
    ("2002:a9fe:a9fe::", "link_local"),  # 6to4 of 169.254.169.254
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("::7f00:1", "loopback"),  # IPv4-compatible 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1
])
def test_ipv6_forms_embedding_a_private_ipv4_address_are_refused(client, tokens, address, reason):
    assert refusal(ipaddress.ip_address(address)) == reason
    answer = client.post("/api/v1/webhooks", json={"url": f"http://[{address}]/hook"}, headers=tokens["admin"])
    error = assert_error(answer, 422, "webhook_url_not_public")
    assert error["details"]["reason"] == reason


def test_6to4_of_a_public_address_is_public():
    assert refusal(ipaddress.ip_address("2002:5db8:d822::")) is None  # 93.184.216.34


# --- The payment provider's webhook endpoint ----------------------------------------------------

WEBHOOK = "/webhooks/payments/sandbox"
HTML_FIRST = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


def signed(app, body: bytes, header: str | None = None) -> dict:
    secret = app.config["PAYMENTS_WEBHOOK_SECRET"]
    return {**HTML_FIRST, signing.HEADER: header or signing.sign(secret, body)}


def event(event_id="evt_1") -> dict:
    return {"id": event_id, "type": "payout.paid", "data": {"id": "sbx_1", "reference": "PO0000000001"}}


def test_malformed_webhooks_are_400_json_whatever_accept_says(app, client, demo, row_counts):
    before = row_counts()
    good = json.dumps(event()).encode()
    deep = ("[" * 5000 + "]" * 5000).encode()
    cases = [
        ("400-digit timestamp", good, "t=" + "9" * 400 + ",v1=" + "0" * 64),
        ("timestamp in superscript digits", good, "t=\u00b9\u00b2,v1=" + "0" * 64),
        ("no v1", good, "t=1700000000"),
        ("two timestamps", good, "t=1,t=2,v1=" + "0" * 64),
        ("signed body nested 5000 deep", deep, None),
        ("signed events nested too deep", json.dumps({"events": [event()], "x": nested(40)}).encode(), None),
        ("signed event id with NUL", json.dumps(event("evt\x00_1")).encode(), None),
        ("signed integer of 5000 digits", b'{"id": ' + b"9" * 5000 + b"}", None),
        ("signed body not UTF-8", b'{"id": "\xff"}', None),
        ("signed body not an event", b'"hello"', None),
    ]

    def check(label, body, header):
        answer = client.post(WEBHOOK, data=body, content_type="application/json", headers=signed(app, body, header))
        assert_error(answer, 400, "malformed_webhook")

    check_each(cases, check)
    assert row_counts() == before


def test_webhook_errors_are_json_whatever_accept_says(app, client, demo):
    body = json.dumps(event()).encode()
    assert_error(client.post(WEBHOOK, data=body, content_type="application/json",
                             headers={**HTML_FIRST, signing.HEADER: signing.sign("not-the-secret", body)}),
                 401, "invalid_signature")
    assert_error(client.post(WEBHOOK, data=body, content_type="application/json", headers=HTML_FIRST),
                 401, "invalid_signature")
    assert_error(client.get(WEBHOOK, headers=HTML_FIRST), 405, "method_not_allowed")
    assert_error(client.post(WEBHOOK, data=body, content_type="text/plain", headers=signed(app, body)),
                 415, "unsupported_media_type")
    assert_error(client.post("/webhooks/payments/acme-pay", data=body, content_type="application/json",
                             headers=HTML_FIRST), 404, "unknown_provider")
    assert_error(client.post(WEBHOOK + "/extra", data=body, content_type="application/json", headers=HTML_FIRST),
                 404, "not_found")


def test_verify_refuses_malformed_headers_without_raising_anything_else():
    body = b"{}"
    for header in ("t=" + "9" * 400 + ",v1=" + "0" * 64, "t=1e9,v1=" + "0" * 64, "v1=" + "0" * 64,
                   "t=-5,v1=" + "0" * 64, "t=\u0661,v1=" + "0" * 64, "t=1,v1=zz", "x" * 5000):
        with pytest.raises(signing.MalformedSignature):
            signing.verify("secret", body, header)
    now = 1_700_000_000
    assert signing.verify("secret", body, signing.sign("secret", body, now), now=now)
    assert not signing.verify("secret", body, signing.sign("secret", body, now - 301), now=now)
    assert not signing.verify("secret", body, signing.sign("other", body, now), now=now)


# --- Funding: a repeat answers a documented status ----------------------------------------------

def test_a_repeated_deposit_answers_200_and_the_openapi_document_lists_it(client, tokens):
    body = {"amount": 5_000, "currency": "USD", "reference": "DEP-EDGE-1"}
    first = client.post("/api/v1/funding", json=body, headers=tokens["programs"])
    again = client.post("/api/v1/funding", json=body, headers=tokens["programs"])
    assert (first.status_code, again.status_code) == (201, 200), (first.json, again.json)
    assert again.json["id"] == first.json["id"]
    documented = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/funding"]["post"]["responses"]
    assert {"200", "201"} <= set(documented)


def test_a_nul_in_an_uploaded_file_name_is_400(client, tokens, row_counts):
    from io import BytesIO

    before = row_counts()
    answer = client.post("/api/v1/reconciliation/statements", headers=tokens["programs"],
                         data={"file": (BytesIO(HEADER.encode()), "statement\x00.csv")},
                         content_type="multipart/form-data")
    error = assert_error(answer, 400, "invalid_input")
    assert "file" in error["details"]["fields"]
    assert row_counts() == before
