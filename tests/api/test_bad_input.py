"""Bad input of every kind answers 4xx with the SPEC §10 error body and writes nothing.

Each table row is (label, request, expected status, expected code, field named in
details.fields or None). Every request is sent by a caller who could otherwise
succeed, so a refusal is the input's doing and not the caller's.
"""
from __future__ import annotations

import base64
import json

import pytest

from app import create_app
from app.extensions import db
from tests.api.conftest import assert_error, check_each
from tests.conftest import DEMO_EMAILS, basic

GOOD_CASE = {"serial_number": "ACME-0005", "software_version": "32.6.1.4", "severity": "S3",
             "title": "Optics report low light", "description": "Port 1:50 shows rx power -19 dBm."}
GOOD_MESSAGE = {"channel": "internal", "body": "Customer sent the support bundle."}
ONE_MIB = 1024 * 1024


def json_body(data) -> dict:
    return {"data": json.dumps(data), "content_type": "application/json"}


def raw(text: str | bytes, content_type: str = "application/json") -> dict:
    return {"data": text, "content_type": content_type}


def case_with(**changes) -> dict:
    return json_body({**GOOD_CASE, **changes})


def case_without(field: str) -> dict:
    return json_body({k: v for k, v in GOOD_CASE.items() if k != field})


def message_with(**changes) -> dict:
    return json_body({**GOOD_MESSAGE, **changes})


def cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


# Body faults any JSON endpoint must refuse the same way.
COMMON_FAULTS = [
    ("malformed JSON", raw('{"channel": "internal",'), 400, "malformed_json", None),
    ("not UTF-8", raw(b"\xff\xfe{}"), 400, "malformed_json", None),
    ("nested beyond the decoder", raw("[" * 100_000 + "]" * 100_000), 400, "malformed_json", None),
    ("integer literal of 5000 digits", raw('{"x": ' + "9" * 5000 + "}"), 400, "malformed_json", None),
    ("a list, not an object", json_body([GOOD_CASE]), 400, "invalid_input", "_schema"),
    ("a string, not an object", json_body("hello"), 400, "invalid_input", "_schema"),
    ("null, not an object", raw("null"), 400, "invalid_input", "_schema"),
    ("JSON sent as text/plain", raw(json.dumps(GOOD_CASE), "text/plain"), 415,
     "unsupported_media_type", None),
    ("form-encoded", raw("title=x&body=y", "application/x-www-form-urlencoded"), 415,
     "unsupported_media_type", None),
    ("over MAX_BODY_BYTES", raw('{"x": "' + "a" * ONE_MIB + '"}'), 413, "payload_too_large", None),
]

CASE_FAULTS = [
    ("string for bool", case_with(hardware_issue="true"), 400, "invalid_input", "hardware_issue"),
    ("number for string", case_with(title=12345), 400, "invalid_input", "title"),
    ("object for string", case_with(description={"text": "x"}), 400, "invalid_input", "description"),
    ("list for string", case_with(serial_number=["ACME-0005"]), 400, "invalid_input", "serial_number"),
    ("null for required string", case_with(severity=None), 400, "invalid_input", "severity"),
    ("unknown severity", case_with(severity="S9"), 400, "invalid_input", "severity"),
    ("infinite number", raw(json.dumps(GOOD_CASE)[:-1] + ', "title": 1e999}'), 400,
     "invalid_input", "title"),
    ("title too long", case_with(title="x" * 201), 400, "invalid_input", "title"),
    ("not a software version", case_with(software_version="32.6; drop"), 400, "invalid_input",
     "software_version"),
    ("NUL in a string", case_with(title="Port\x00flaps"), 400, "invalid_input", "title"),
    ("half a surrogate pair", raw(json.dumps(GOOD_CASE)[:-1] + ', "description": "\\ud800"}'), 400,
     "invalid_input", "description"),
    ("missing serial_number", case_without("serial_number"), 400, "invalid_input", "serial_number"),
    ("missing severity", case_without("severity"), 400, "invalid_input", "severity"),
    ("missing title", case_without("title"), 400, "invalid_input", "title"),
    ("empty object", json_body({}), 400, "invalid_input", "description"),
    ("empty body", raw(""), 400, "invalid_input", "serial_number"),
    # Fields the server decides must be refused, not silently dropped or, worse, obeyed.
    ("unknown field customer_id", case_with(customer_id=1), 400, "invalid_input", "customer_id"),
    ("unknown field status", case_with(status="closed"), 400, "invalid_input", "status"),
    ("unknown field escalated_at", case_with(escalated_at="2026-01-01T00:00:00Z"), 400,
     "invalid_input", "escalated_at"),
    *COMMON_FAULTS,
]

# JSON numbers are not booleans, though Python's 1 == True and 0 == False.
NUMBER_FOR_BOOL_FAULTS = [
    ("1 for hardware_issue", case_with(hardware_issue=1), 400, "invalid_input", "hardware_issue"),
    ("0 for hardware_issue", case_with(hardware_issue=0), 400, "invalid_input", "hardware_issue"),
    ("1.0 for crash", case_with(crash=1.0), 400, "invalid_input", "crash"),
    ("0 for crash", case_with(crash=0), 400, "invalid_input", "crash"),
]

MESSAGE_FAULTS = [
    ("number for string", message_with(body=42), 400, "invalid_input", "body"),
    ("bool for string", message_with(channel=True), 400, "invalid_input", "channel"),
    ("null body", message_with(body=None), 400, "invalid_input", "body"),
    ("list for string", message_with(body=["a", "b"]), 400, "invalid_input", "body"),
    ("unknown channel", message_with(channel="sms"), 400, "invalid_input", "channel"),
    ("empty body text", message_with(body=""), 400, "invalid_input", "body"),
    ("missing body", json_body({"channel": "internal"}), 400, "invalid_input", "body"),
    ("missing channel", json_body({"body": "hello"}), 400, "invalid_input", "channel"),
    ("unknown field author_id", message_with(author_id=1), 400, "invalid_input", "author_id"),
    ("NUL in body", message_with(body="a\x00b"), 400, "invalid_input", "body"),
    ("half a surrogate pair", raw('{"channel": "internal", "body": "\\udfff"}'), 400,
     "invalid_input", "body"),
    *COMMON_FAULTS,
]

TOKEN_FAULTS = [
    ("number for string", json_body({"name": 5}), 400, "invalid_input", "name"),
    ("null name", json_body({"name": None}), 400, "invalid_input", "name"),
    ("empty name", json_body({"name": ""}), 400, "invalid_input", "name"),
    ("unknown field user_id", json_body({"name": "ci", "user_id": 1}), 400, "invalid_input",
     "user_id"),
    ("NUL in name", json_body({"name": "c\x00i"}), 400, "invalid_input", "name"),
    ("expiry of zero days", json_body({"name": "ci", "expires_in_days": 0}), 400, "invalid_input", "expires_in_days"),
    ("expiry in the past", json_body({"name": "ci", "expires_in_days": -1}), 400, "invalid_input", "expires_in_days"),
    ("expiry beyond ten years", json_body({"name": "ci", "expires_in_days": 3651}), 400, "invalid_input",
     "expires_in_days"),
    ("expiry as text", json_body({"name": "ci", "expires_in_days": "30"}), 400, "invalid_input", "expires_in_days"),
    ("expiry as a bool", json_body({"name": "ci", "expires_in_days": True}), 400, "invalid_input", "expires_in_days"),
    ("expiry as a fraction", json_body({"name": "ci", "expires_in_days": 1.5}), 400, "invalid_input",
     "expires_in_days"),
    *COMMON_FAULTS,
]


def refuse_each(faults, send, row_counts) -> None:
    """Send every fault; each must be refused with its status, code and field, and write nothing."""
    def check(label, request_kwargs, status, code, field):
        before = row_counts()
        error = assert_error(send(request_kwargs), status, code)
        if field is not None:
            assert field in error["details"].get("fields", {}), error
        assert row_counts() == before, "a refused request wrote rows"

    check_each(faults, check)


@pytest.fixture
def case_id(client, callers):
    """A case the engineer may write every channel but gtac of."""
    return client.get("/api/v1/cases?limit=1", headers=callers["engineer"]).json["items"][0]["id"]


def test_open_case_refuses(client, callers, row_counts):
    refuse_each(CASE_FAULTS, lambda kwargs: client.post(
        "/api/v1/cases", headers=callers["engineer"], **kwargs), row_counts)


def test_open_case_refuses_numbers_for_booleans(client, callers, row_counts):
    refuse_each(NUMBER_FOR_BOOL_FAULTS, lambda kwargs: client.post(
        "/api/v1/cases", headers=callers["engineer"], **kwargs), row_counts)


def test_post_message_refuses(client, callers, case_id, row_counts):
    refuse_each(MESSAGE_FAULTS, lambda kwargs: client.post(
        f"/api/v1/cases/{case_id}/messages", headers=callers["engineer"], **kwargs), row_counts)


def test_issue_token_refuses(client, demo, row_counts):
    refuse_each(TOKEN_FAULTS, lambda kwargs: client.post(
        "/api/v1/tokens", headers=basic(DEMO_EMAILS["engineer"]), **kwargs), row_counts)


def test_the_good_requests_of_these_tables_succeed(client, callers, case_id):
    """The faults above are refused for their fault alone: the same requests without it pass."""
    assert client.post("/api/v1/cases", headers=callers["engineer"], **json_body(GOOD_CASE)
                       ).status_code == 201
    assert client.post(f"/api/v1/cases/{case_id}/messages", headers=callers["engineer"],
                       **json_body(GOOD_MESSAGE)).status_code == 201
    assert client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["engineer"]),
                       **json_body({"name": "ci"})).status_code == 201
    just_under = {**GOOD_MESSAGE, "body": "a" * 20000}
    assert client.post(f"/api/v1/cases/{case_id}/messages", headers=callers["engineer"],
                       **json_body(just_under)).status_code == 201


# --- Credentials that are malformed rather than wrong -----------------------------------------

CREDENTIAL_FAULTS = [
    ("NUL in the e-mail", "/api/v1/tokens", basic("engineer@northwind.example\x00x"), 400,
     "invalid_input"),
    ("Basic that is not base64", "/api/v1/tokens", {"Authorization": "Basic !!!"}, 401,
     "missing_credentials"),
    ("Basic that is not UTF-8", "/api/v1/tokens",
     {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:pw").decode()}, 401,
     "missing_credentials"),
    ("Bearer to the token endpoint", "/api/v1/tokens", {"Authorization": "Bearer x"}, 401,
     "missing_credentials"),
    ("Bearer with no secret", "/api/v1/me", {"Authorization": "Bearer "}, 401, "missing_token"),
    ("Basic to a Bearer endpoint", "/api/v1/me", basic("engineer@northwind.example"), 401,
     "missing_token"),
    ("unknown scheme", "/api/v1/me", {"Authorization": "Token abc"}, 401, "missing_token"),
]


def test_malformed_credentials(client, demo, row_counts):
    def check(label, path, headers, status, code):
        before = row_counts()
        method = client.post if path.endswith("tokens") else client.get
        assert_error(method(path, headers=headers), status, code)
        assert row_counts() == before

    check_each(CREDENTIAL_FAULTS, check)


# --- Ids in the path ---------------------------------------------------------------------------

BAD_IDS = ["abc", "1.5", "-1", "0", "0x1", "%20", "2147483648", "99999999999999999999",
           "9" * 5000]
ID_PATHS = [("GET", "/api/v1/cases/{}"), ("GET", "/api/v1/cases/{}/messages"),
            ("POST", "/api/v1/cases/{}/messages"), ("DELETE", "/api/v1/tokens/{}")]
USER_ID_PATHS = [("GET", "/api/v1/users/{}"), ("PATCH", "/api/v1/users/{}"),
                 ("POST", "/api/v1/users/{}/deactivation"), ("POST", "/api/v1/users/{}/reactivation"),
                 ("POST", "/api/v1/users/{}/invitation")]


def test_ids_that_name_no_record_are_404(client, callers, row_counts):
    def check(method, template, bad_id):
        before = row_counts()
        answer = client.open(template.format(bad_id), method=method, headers=callers["engineer"],
                             json=GOOD_MESSAGE if method == "POST" else None)
        assert_error(answer, 404)
        assert row_counts() == before

    check_each([(method, template, bad_id) for method, template in ID_PATHS for bad_id in BAD_IDS],
               check, describe=lambda method, template, bad_id: f"{method} {template.format(bad_id[:30])}")


def test_user_ids_that_name_no_record_are_404(client, callers, row_counts):
    def check(method, template, bad_id):
        before = row_counts()
        answer = client.open(template.format(bad_id), method=method, headers=callers["vendor_admin"],
                             json={"name": "x"} if method == "PATCH" else None)
        assert_error(answer, 404)
        assert row_counts() == before

    check_each([(method, template, bad_id) for method, template in USER_ID_PATHS for bad_id in BAD_IDS],
               check, describe=lambda method, template, bad_id: f"{method} {template.format(bad_id[:30])}")


USER_LIST_FAULTS = [
    ("limit=0", {"limit": "0"}, "invalid_input", "limit"),
    ("unknown role", {"role": "root"}, "invalid_input", "role"),
    ("active=yes", {"active": "yes"}, "invalid_input", "active"),
    ("organisation_id not a number", {"organisation_id": "acme"}, "invalid_input", "organisation_id"),
    ("organisation_id zero", {"organisation_id": "0"}, "invalid_input", "organisation_id"),
    ("q empty", {"q": ""}, "invalid_input", "q"),
    ("q with NUL", {"q": "a\x00b"}, "invalid_input", "q"),
    ("cursor not base64", {"cursor": "!!!"}, "invalid_cursor", None),
]


def test_user_list_refuses(client, callers, row_counts):
    faults = [(label, {"query_string": query}, 400, code, field) for label, query, code, field in USER_LIST_FAULTS]
    refuse_each(faults, lambda kwargs: client.get("/api/v1/users", headers=callers["admin"], **kwargs), row_counts)


def test_user_changes_refuse(app, client, callers, row_counts):
    target = client.get("/api/v1/users", query_string={"q": "engineer@northwind"}, headers=callers["admin"]
                        ).json["items"][0]["id"]
    faults = [
        ("unknown role", json_body({"role": "owner"}), 400, "invalid_input", "role"),
        ("empty name", json_body({"name": ""}), 400, "invalid_input", "name"),
        ("blank name", json_body({"name": "   "}), 400, "invalid_input", "name"),
        ("e-mail is not editable", json_body({"email": "x@y.example"}), 400, "invalid_input", "email"),
        ("active through PATCH", json_body({"active": False}), 400, "invalid_input", "active"),
        ("GTAC role for a partner's user", json_body({"role": "gtac_manager"}), 422, "role_not_for_organisation",
         "role"),
        *COMMON_FAULTS,
    ]
    refuse_each(faults, lambda kwargs: client.patch(f"/api/v1/users/{target}", headers=callers["admin"], **kwargs),
                row_counts)


def test_largest_possible_id_is_an_ordinary_404(client, callers):
    for template in ("/api/v1/cases/{}", "/api/v1/cases/{}/messages"):
        assert_error(client.get(template.format(2**31 - 1), headers=callers["engineer"]),
                     404, "case_not_found")
    assert_error(client.delete(f"/api/v1/tokens/{2**31 - 1}", headers=callers["engineer"]),
                 404, "token_not_found")


# --- Query strings of lists --------------------------------------------------------------------

LIST_FAULTS = [
    ("limit=0", {"limit": "0"}, "invalid_input", "limit"),
    ("limit=-1", {"limit": "-1"}, "invalid_input", "limit"),
    ("limit above 100", {"limit": "101"}, "invalid_input", "limit"),
    ("limit huge", {"limit": "9" * 30}, "invalid_input", "limit"),
    ("limit not a number", {"limit": "ten"}, "invalid_input", "limit"),
    ("limit empty", {"limit": ""}, "invalid_input", "limit"),
    ("unknown status", {"status": "pending"}, "invalid_input", "status"),
    ("unknown severity", {"severity": "S0"}, "invalid_input", "severity"),
    ("severity in lower case", {"severity": "s1"}, "invalid_input", "severity"),
    ("q empty", {"q": ""}, "invalid_input", "q"),
    ("q too long", {"q": "x" * 201}, "invalid_input", "q"),
    ("q with NUL", {"q": "a\x00b"}, "invalid_input", "q"),
    ("cursor not base64", {"cursor": "!!!"}, "invalid_cursor", None),
    ("cursor not JSON", {"cursor": base64.urlsafe_b64encode(b"not json").decode()},
     "invalid_cursor", None),
    ("cursor without before", {"cursor": cursor({"after": 3})}, "invalid_cursor", None),
    ("cursor before a string", {"cursor": cursor({"before": "3"})}, "invalid_cursor", None),
    ("cursor before a bool", {"cursor": cursor({"before": True})}, "invalid_cursor", None),
    ("cursor before zero", {"cursor": cursor({"before": 0})}, "invalid_cursor", None),
    ("cursor before beyond any id", {"cursor": cursor({"before": 2**31})}, "invalid_cursor", None),
    ("cursor before huge", {"cursor": cursor({"before": 10**30})}, "invalid_cursor", None),
    ("cursor a JSON list", {"cursor": cursor([1])}, "invalid_cursor", None),
    ("cursor too long", {"cursor": "A" * 201}, "invalid_input", "cursor"),
    ("cursor with NUL", {"cursor": "abc\x00"}, "invalid_input", "cursor"),
]


def test_case_list_refuses(client, callers, row_counts):
    faults = [(label, {"query_string": query}, 400, code, field)
              for label, query, code, field in LIST_FAULTS]
    refuse_each(faults, lambda kwargs: client.get(
        "/api/v1/cases", headers=callers["engineer"], **kwargs), row_counts)


def test_thread_refuses_unknown_channel_filter(client, callers, case_id, row_counts):
    faults = [(repr(channel), {"query_string": {"channel": channel}}, 400, "invalid_input", "channel")
              for channel in ("sms", "GTAC", "", "internal\x00")]
    refuse_each(faults, lambda kwargs: client.get(
        f"/api/v1/cases/{case_id}/messages", headers=callers["engineer"], **kwargs), row_counts)


# --- Flask's own errors on /api paths ----------------------------------------------------------

def test_unknown_api_path_is_404_with_the_error_body(client, callers):
    assert_error(client.get("/api/v1/no-such-thing", headers=callers["engineer"]), 404, "not_found")
    # Without credentials the API tells nothing about which paths exist.
    assert_error(client.get("/api/v1/no-such-thing"), 401, "missing_token")


WRONG_METHODS = [
    ("DELETE", "/api/v1/cases", {"GET", "POST"}),
    ("PUT", "/api/v1/me", {"GET"}),
    ("PATCH", "/api/v1/cases/1/messages", {"GET", "POST"}),
    ("POST", "/api/v1/openapi.json", {"GET"}),
]


def test_wrong_method_is_405_with_allow(client, callers, row_counts):
    def check(method, path, allowed):
        before = row_counts()
        answer = client.open(path, method=method, headers=callers["engineer"], json={})
        error = assert_error(answer, 405, "method_not_allowed")
        assert allowed <= {m.strip() for m in answer.headers["Allow"].split(",")}
        assert allowed <= set(error["details"]["allowed_methods"])
        assert row_counts() == before

    check_each(WRONG_METHODS, check, describe=lambda method, path, allowed: f"{method} {path}")


def test_too_large_body_says_the_limit(client, callers, app):
    answer = client.post("/api/v1/cases", headers=callers["engineer"],
                         **raw("x" * (app.config["MAX_BODY_BYTES"] + 1)))
    error = assert_error(answer, 413, "payload_too_large")
    assert error["details"]["max_bytes"] == app.config["MAX_BODY_BYTES"]


def test_unhandled_error_is_500_with_the_error_body_and_no_internals(app, callers, tmp_path):
    crashing = create_app({"PROPAGATE_EXCEPTIONS": False,
                           "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]},
                          instance_path=str(tmp_path))

    def explode():
        raise RuntimeError("connection string postgres://secret@db")

    crashing.add_url_rule("/api/v1/explode", "explode", explode)
    answer = crashing.test_client().get("/api/v1/explode", headers=callers["engineer"])
    with crashing.app_context():
        db.engine.dispose()
    error = assert_error(answer, 500, "internal_error")
    assert "secret" not in answer.get_data(as_text=True)
    assert error["message"] == "Internal server error."


# --- Sign-in throttling ------------------------------------------------------------------------

def test_throttled_sign_in_is_429_even_with_the_right_password(app, client, demo, row_counts):
    limit = app.config["LOGIN_MAX_FAILURES"]
    email = DEMO_EMAILS["engineer"]
    before = row_counts()
    for _ in range(limit):
        assert_error(client.post("/api/v1/tokens", headers=basic(email, "guess")), 401,
                     "invalid_credentials")
    for attempt_email in (email, email.upper()):
        answer = client.post("/api/v1/tokens", headers=basic(attempt_email))
        error = assert_error(answer, 429, "too_many_attempts")
        assert error["details"]["retry_after_seconds"] == app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    after = row_counts()
    assert after["login_failures"] == before["login_failures"] + limit  # the failures are kept
    assert after["api_tokens"] == before["api_tokens"]
    # The lock is on that e-mail, not on everybody.
    assert client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["admin"])).status_code == 201


def test_a_raced_uniqueness_is_a_409_and_any_other_broken_constraint_a_500(app):
    from sqlalchemy.exc import IntegrityError

    from app.api_base import integrity_error

    def answer(message: str):
        with app.test_request_context("/api/v1/integrations", method="POST", headers={"Accept": "application/json"}):
            return integrity_error(IntegrityError("INSERT ...", {}, Exception(message)))

    body, status, _headers = answer("UNIQUE constraint failed: integrations.name")
    assert (status, body["error"]["code"]) == (409, "conflict")
    body, status, _headers = answer("NOT NULL constraint failed: integrations.name")
    assert status == 500 and body["error"]["code"] != "conflict"
