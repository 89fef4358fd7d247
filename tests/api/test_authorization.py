"""Who may do what to whose data, as tables (SPEC §2, §10).

Callers are the demo users of SPEC §10 (Northwind: engineer, admin and its
customer Acme; Contoso: engineer and its customer Fabrikam; the vendor: gtac,
manager, programs, vendor_admin), nobody, a token never issued and a revoked token. Globex,
a second customer of Northwind, shows that a customer's scope is its own
organisation and not its partner's.

The user-administration tables add the vendor's admin as a caller; service contracts and imports are
the vendor admin's alone.

Rules: another tenant's object is 404, never 403; a visible object the role
may not act on is 403; GTAC sees only escalated cases and only the gtac
channel; customers only their organisation's cases and the customer channel;
programs and the vendor admin (support operations, not support) no cases at all; the gtac channel
is closed (422) until escalation; the administration (/admin) is the vendor admin's alone.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Organisation, Role, User
from app.clock import now
from app.contracts.models import ServiceContract
from app.extensions import db
from tests.administration.helpers import org_id, product_id
from tests.api.conftest import assert_error, check_each
from tests.conftest import DEMO_EMAILS, basic

NO_CREDENTIALS = ("anonymous", "bad_token", "revoked_token")
CASE_ROLES = ("engineer", "admin", "customer", "contoso", "fabrikam", "gtac", "manager")
ROLE = {"engineer": "partner_engineer", "admin": "partner_admin", "customer": "customer",
        "contoso": "partner_engineer", "fabrikam": "customer", "gtac": "gtac_engineer",
        "manager": "gtac_manager", "programs": "programs", "vendor_admin": "vendor_admin"}
ORGANISATION = {"engineer": "Northwind Networks", "admin": "Northwind Networks",
                "customer": "Acme Corp", "contoso": "Contoso Integrators",
                "fabrikam": "Fabrikam Ltd", "gtac": "Extreme GTAC", "manager": "Extreme GTAC",
                "programs": "Extreme GTAC", "vendor_admin": "Extreme GTAC"}


def cells(table: dict[str, tuple], columns: tuple[str, ...]):
    """(caller, column, expected status) for every cell of a table."""
    for caller, row in table.items():
        yield from ((caller, column, status) for column, status in zip(columns, row, strict=True))


def check_every_cell(cells_to_check, check) -> None:
    """Run check(caller, column, status) on each cell; report every wrong cell, not just the first."""
    check_each(cells_to_check, check,
               describe=lambda caller, column, status: f"{caller} / {column} (expected {status})")


# --- Endpoints without a case in the path -----------------------------------------------------
#
# POST /cases "own" is a serial of the caller's own organisation (gtac/programs try Acme's);
# "foreign" is another tenant's serial: Fabrikam's for Northwind, Acme's for Contoso and
# Fabrikam, and for Acme's customer the serial of Globex, a sibling customer of its partner.
# DELETE /tokens "foreign" is a live token of another user.
GENERAL_COLUMNS = ("POST tokens", "GET me", "GET tokens", "DELETE own token",
                   "DELETE foreign token", "GET cases", "POST cases own", "POST cases foreign",
                   "GET openapi", "GET healthz", "GET readyz")
GENERAL = {
    #                 POST   GET   GET     DELETE  DELETE   GET    POST   POST     open  health ready
    #                 tokens me    tokens  own     foreign  cases  own    foreign  api   z      z
    "engineer":      (201,   200,  200,    204,    404,     200,   201,   422,     200,  200,   200),
    "admin":         (201,   200,  200,    204,    404,     200,   201,   422,     200,  200,   200),
    "customer":      (201,   200,  200,    204,    404,     200,   201,   422,     200,  200,   200),
    "contoso":       (201,   200,  200,    204,    404,     200,   201,   422,     200,  200,   200),
    "fabrikam":      (201,   200,  200,    204,    404,     200,   201,   422,     200,  200,   200),
    "gtac":          (201,   200,  200,    204,    404,     200,   403,   403,     200,  200,   200),
    "manager":       (201,   200,  200,    204,    404,     200,   403,   403,     200,  200,   200),
    "programs":      (201,   200,  200,    204,    404,     403,   403,   403,     200,  200,   200),
    "vendor_admin":  (201,   200,  200,    204,    404,     403,   403,   403,     200,  200,   200),
    "anonymous":     (401,   401,  401,    401,    401,     401,   401,   401,     200,  200,   200),
    "bad_token":     (401,   401,  401,    401,    401,     401,   401,   401,     200,  200,   200),
    "revoked_token": (401,   401,  401,    401,    401,     401,   401,   401,     200,  200,   200),
}
OWN_SERIAL = {"engineer": "ACME-0005", "admin": "ACME-0005", "customer": "ACME-0005",
              "contoso": "FAB-0004", "fabrikam": "FAB-0004"}
FOREIGN_SERIAL = {"engineer": "FAB-0004", "admin": "FAB-0004", "customer": "GLX-0003",
                  "contoso": "ACME-0005", "fabrikam": "ACME-0005"}
OWN_CUSTOMER = {"engineer": "Acme Corp", "admin": "Acme Corp", "customer": "Acme Corp",
                "contoso": "Fabrikam Ltd", "fabrikam": "Fabrikam Ltd"}

# --- Endpoints on one case --------------------------------------------------------------------
CASE_COLUMNS = ("acme_open", "acme_escalated", "globex_open", "fabrikam_open", "fabrikam_escalated")
UNAUTHENTICATED = {caller: (401,) * 5 for caller in NO_CREDENTIALS}
READ_CASE = {  # GET /cases/{id}, GET /cases/{id}/messages (the caller's channels)
    #              acme   acme       globex  fabrikam  fabrikam
    #              open   escalated  open    open      escalated
    "engineer":   (200,   200,       200,    404,      404),
    "admin":      (200,   200,       200,    404,      404),
    "customer":   (200,   200,       404,    404,      404),
    "contoso":    (404,   404,       404,    200,      200),
    "fabrikam":   (404,   404,       404,    200,      200),
    "gtac":       (404,   200,       404,    404,      200),
    "manager":    (404,   200,       404,    404,      200),
    "programs":   (404,   404,       404,    404,      404),
    "vendor_admin": (404,   404,       404,    404,      404),
    **UNAUTHENTICATED,
}
READ_CHANNEL = {  # GET /cases/{id}/messages?channel=...
    "internal": {
        "engineer":   (200,   200,       200,    404,      404),
        "admin":      (200,   200,       200,    404,      404),
        "customer":   (403,   403,       404,    404,      404),
        "contoso":    (404,   404,       404,    200,      200),
        "fabrikam":   (404,   404,       404,    403,      403),
        "gtac":       (404,   403,       404,    404,      403),
        "manager":    (404,   403,       404,    404,      403),
        "programs":   (404,   404,       404,    404,      404),
        "vendor_admin": (404,   404,       404,    404,      404),
        **UNAUTHENTICATED,
    },
    "customer": {
        "engineer":   (200,   200,       200,    404,      404),
        "admin":      (200,   200,       200,    404,      404),
        "customer":   (200,   200,       404,    404,      404),
        "contoso":    (404,   404,       404,    200,      200),
        "fabrikam":   (404,   404,       404,    200,      200),
        "gtac":       (404,   403,       404,    404,      403),
        "manager":    (404,   403,       404,    404,      403),
        "programs":   (404,   404,       404,    404,      404),
        "vendor_admin": (404,   404,       404,    404,      404),
        **UNAUTHENTICATED,
    },
    "gtac": {
        "engineer":   (200,   200,       200,    404,      404),
        "admin":      (200,   200,       200,    404,      404),
        "customer":   (403,   403,       404,    404,      404),
        "contoso":    (404,   404,       404,    200,      200),
        "fabrikam":   (404,   404,       404,    403,      403),
        "gtac":       (404,   200,       404,    404,      200),
        "manager":    (404,   200,       404,    404,      200),
        "programs":   (404,   404,       404,    404,      404),
        "vendor_admin": (404,   404,       404,    404,      404),
        **UNAUTHENTICATED,
    },
}
WRITE_CHANNEL = {  # POST /cases/{id}/messages {"channel": ...}
    "internal": {
        "engineer":   (201,   201,       201,    404,      404),
        "admin":      (201,   201,       201,    404,      404),
        "customer":   (403,   403,       404,    404,      404),
        "contoso":    (404,   404,       404,    201,      201),
        "fabrikam":   (404,   404,       404,    403,      403),
        "gtac":       (404,   403,       404,    404,      403),
        "manager":    (404,   403,       404,    404,      403),
        "programs":   (404,   404,       404,    404,      404),
        "vendor_admin": (404,   404,       404,    404,      404),
        **UNAUTHENTICATED,
    },
    "customer": {
        "engineer":   (201,   201,       201,    404,      404),
        "admin":      (201,   201,       201,    404,      404),
        "customer":   (201,   201,       404,    404,      404),
        "contoso":    (404,   404,       404,    201,      201),
        "fabrikam":   (404,   404,       404,    201,      201),
        "gtac":       (404,   403,       404,    404,      403),
        "manager":    (404,   403,       404,    404,      403),
        "programs":   (404,   404,       404,    404,      404),
        "vendor_admin": (404,   404,       404,    404,      404),
        **UNAUTHENTICATED,
    },
    "gtac": {
        "engineer":   (422,   201,       422,    404,      404),
        "admin":      (422,   201,       422,    404,      404),
        "customer":   (403,   403,       404,    404,      404),
        "contoso":    (404,   404,       404,    422,      201),
        "fabrikam":   (404,   404,       404,    403,      403),
        "gtac":       (404,   201,       404,    404,      201),
        "manager":    (404,   201,       404,    404,      201),
        "programs":   (404,   404,       404,    404,      404),
        "vendor_admin": (404,   404,       404,    404,      404),
        **UNAUTHENTICATED,
    },
}
CASE_MATRIX = {
    "GET /cases/{id}": READ_CASE,
    "GET /cases/{id}/messages": READ_CASE,
    **{f"GET /cases/{{id}}/messages?channel={c}": table for c, table in READ_CHANNEL.items()},
    **{f"POST /cases/{{id}}/messages {c}": table for c, table in WRITE_CHANNEL.items()},
}
# The channels each role reads when it asks for the whole thread.
READABLE = {"engineer": {"internal", "customer", "gtac"}, "admin": {"internal", "customer", "gtac"},
            "contoso": {"internal", "customer", "gtac"}, "customer": {"customer"},
            "fabrikam": {"customer"}, "gtac": {"gtac"}, "manager": {"gtac"}}
# The cases each role finds in GET /cases, stated on the test's own record of each case.
VISIBLE = {
    "engineer": lambda case: case.partner == "northwind",
    "admin": lambda case: case.partner == "northwind",
    "customer": lambda case: case.customer == "acme",
    "contoso": lambda case: case.partner == "contoso",
    "fabrikam": lambda case: case.customer == "fabrikam",
    "gtac": lambda case: case.escalated,
    "manager": lambda case: case.escalated,
}
# Error codes by status, for the case endpoints.
CASE_ERROR = {404: "case_not_found", 403: "channel_not_allowed", 422: "gtac_channel_closed"}


def unauthenticated_code(caller: str, endpoint: str = "") -> str:
    if endpoint == "POST tokens":
        return "missing_credentials"
    return "missing_token" if caller == "anonymous" else "invalid_token"


def assert_refused(answer, status: int, code: str) -> None:
    assert_error(answer, status, code)
    if status == 401:
        assert answer.headers.get("WWW-Authenticate"), "a 401 must say how to authenticate"


# --- Tests: endpoints without a case ----------------------------------------------------------

def test_every_table_has_a_row_for_every_caller():
    everyone = {*ROLE, *NO_CREDENTIALS}
    for name, table in {"GENERAL": GENERAL, **CASE_MATRIX}.items():
        assert set(table) == everyone, name
    assert set(VISIBLE) == set(READABLE) == set(CASE_ROLES) == set(ROLE) - {"programs", "vendor_admin"}


GENERAL_ERROR = {404: "token_not_found", 422: "serial_not_covered", 403: "role_not_allowed"}


@pytest.mark.parametrize("endpoint", GENERAL_COLUMNS)
def test_general_endpoint(client, callers, demo, case_book, token_ids, row_counts, endpoint):
    column = GENERAL_COLUMNS.index(endpoint)
    live_tokens = {name: _token_id_of(client, callers, name) for name in DEMO_EMAILS}

    def check(caller, _endpoint, status):
        before = row_counts()
        answer = _call_general(client, callers, live_tokens, caller, endpoint)
        if status >= 400:
            code = unauthenticated_code(caller, endpoint) if status == 401 else GENERAL_ERROR[status]
            assert_refused(answer, status, code)
            assert row_counts() == before, "a refused request wrote rows"
            return
        assert answer.status_code == status, answer.get_data(as_text=True)[:300]
        _check_success(client, callers, demo, case_book, token_ids, caller, endpoint, answer)

    check_every_cell([(caller, endpoint, row[column]) for caller, row in GENERAL.items()], check)


def _call_general(client, callers, live_tokens, caller, endpoint):
    headers = callers[caller]
    if endpoint == "POST tokens":
        auth = basic(DEMO_EMAILS[caller]) if caller in DEMO_EMAILS else headers
        return client.post("/api/v1/tokens", json={"name": "matrix"}, headers=auth)
    if endpoint == "DELETE own token":
        own = live_tokens.get(caller, live_tokens["engineer"])
        return client.delete(f"/api/v1/tokens/{own}", headers=headers)
    if endpoint == "DELETE foreign token":
        victim = "engineer" if caller == "contoso" else "contoso"
        return client.delete(f"/api/v1/tokens/{live_tokens[victim]}", headers=headers)
    if endpoint.startswith("POST cases"):
        serial = (OWN_SERIAL if endpoint.endswith("own") else FOREIGN_SERIAL).get(caller, "ACME-0005")
        return client.post("/api/v1/cases", headers=headers, json={
            "serial_number": serial, "software_version": "32.6.1.4", "severity": "S3",
            "title": "Optics report low light", "description": "Port 1:50 shows rx power -19 dBm."})
    path = {"GET me": "/api/v1/me", "GET tokens": "/api/v1/tokens", "GET cases": "/api/v1/cases",
            "GET openapi": "/api/v1/openapi.json", "GET healthz": "/healthz",
            "GET readyz": "/readyz"}[endpoint]
    return client.get(path, headers=headers)


def _token_id_of(client, callers, owner: str) -> int:
    """The id of the owner's working token, read from the owner's own token list."""
    listed = client.get("/api/v1/tokens", headers=callers[owner]).json
    (token,) = [t for t in listed if t["name"] == f"test {owner}"]
    return token["id"]


def _check_success(client, callers, demo, case_book, token_ids, caller, endpoint, answer):
    body = answer.json if answer.status_code != 204 else None
    if endpoint == "POST tokens":
        bearer = {"Authorization": f"Bearer {body['token']}"}
        assert client.get("/api/v1/me", headers=bearer).json["email"] == DEMO_EMAILS[caller]
    elif endpoint == "GET me":
        assert body["id"] == demo[caller].id
        assert body["email"] == DEMO_EMAILS[caller]
        assert body["role"] == ROLE[caller]
        assert body["organisation"]["name"] == ORGANISATION[caller]
    elif endpoint == "GET tokens":
        assert sorted(t["id"] for t in body) == sorted(token_ids[DEMO_EMAILS[caller]])
        assert not any("token" in t or "digest" in t for t in body), "a token secret leaked"
    elif endpoint == "DELETE own token":
        assert answer.get_data() == b""
        assert_error(client.get("/api/v1/me", headers=callers[caller]), 401, "invalid_token")
    elif endpoint == "GET cases":
        assert [c["id"] for c in body["items"]] == case_book.ids(VISIBLE[caller])
        assert body["next_cursor"] is None
    elif endpoint == "POST cases own":
        assert body["customer"]["name"] == OWN_CUSTOMER[caller]
        assert body["status"] == "open"
        assert client.get(f"/api/v1/cases/{body['id']}", headers=callers[caller]).status_code == 200
    elif endpoint == "GET openapi":
        assert "/api/v1/cases/{case_id}" in body["paths"]
    elif endpoint == "GET healthz":
        assert body == {"status": "ok"}
    elif endpoint == "GET readyz":
        assert body["status"] == "ready"


def test_foreign_token_survives_a_revocation_attempt(client, callers):
    victim = _token_id_of(client, callers, "contoso")
    assert_error(client.delete(f"/api/v1/tokens/{victim}", headers=callers["engineer"]),
                 404, "token_not_found")
    assert client.get("/api/v1/me", headers=callers["contoso"]).status_code == 200
    assert victim in [t["id"] for t in client.get("/api/v1/tokens", headers=callers["contoso"]).json]


def test_foreign_serial_is_refused_like_an_unknown_one(client, callers, row_counts):
    """The refusal does not tell whether the serial exists elsewhere."""
    before = row_counts()
    answers = []
    for serial in ("FAB-0004", "NO-SUCH-SERIAL"):
        answer = client.post("/api/v1/cases", headers=callers["engineer"], json={
            "serial_number": serial, "software_version": "32.6.1.4", "severity": "S3",
            "title": "Optics report low light", "description": "Port 1:50 shows low rx power."})
        error = assert_error(answer, 422, "serial_not_covered")
        answers.append((error["message"], sorted(error["details"])))
    assert answers[0] == answers[1]
    assert row_counts() == before


def test_wrong_password_is_401_and_recorded(client, demo, row_counts):
    before = row_counts()
    answer = client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["engineer"], "not-the-password"))
    assert_error(answer, 401, "invalid_credentials")
    assert row_counts() == {**before, "login_failures": before["login_failures"] + 1}


def test_customer_case_goes_to_its_own_partner(client, callers):
    opened = client.post("/api/v1/cases", headers=callers["customer"], json={
        "serial_number": "ACME-0006", "software_version": "32.6.1.4", "severity": "S3",
        "title": "PoE budget exceeded", "description": "Phones on ports 1-12 lose power."}).json
    assert opened["customer"]["name"] == "Acme Corp"
    seen_by_partner = client.get(f"/api/v1/cases/{opened['id']}", headers=callers["engineer"]).json
    assert seen_by_partner["partner"]["name"] == "Northwind Networks"
    assert_error(client.get(f"/api/v1/cases/{opened['id']}", headers=callers["contoso"]),
                 404, "case_not_found")


# --- Tests: endpoints on one case -------------------------------------------------------------

@pytest.mark.parametrize("endpoint", CASE_MATRIX)
def test_case_endpoint(client, callers, case_book, row_counts, endpoint):
    method, path, *rest = endpoint.split(" ")

    def check(caller, target, status):
        record = case_book.cases[target]
        url = "/api/v1" + path.replace("{id}", str(record.id))
        before = row_counts()
        if method == "POST":
            answer = client.post(url, headers=callers[caller],
                                 json={"channel": rest[0], "body": f"{caller} writes"})
        else:
            answer = client.get(url, headers=callers[caller])
        if status >= 400:
            code = unauthenticated_code(caller) if status == 401 else CASE_ERROR[status]
            assert_refused(answer, status, code)
            assert row_counts() == before, "a refused request wrote rows"
            return
        assert answer.status_code == status, answer.get_data(as_text=True)[:300]
        _check_case_answer(client, callers, case_book, caller, target, endpoint, answer)

    check_every_cell(cells(CASE_MATRIX[endpoint], CASE_COLUMNS), check)


def _check_case_answer(client, callers, case_book, caller, target, endpoint, answer):
    record = case_book.cases[target]
    body = answer.json
    if endpoint == "GET /cases/{id}":
        assert (body["id"], body["title"]) == (record.id, record.title)
    elif endpoint == "GET /cases/{id}/messages":
        expected = [mid for mid, channel in case_book.messages[target] if channel in READABLE[caller]]
        assert [m["id"] for m in body] == expected
    elif endpoint.startswith("GET"):
        channel = endpoint.rsplit("=", 1)[1]
        assert [m["id"] for m in body] == [mid for mid, c in case_book.messages[target] if c == channel]
    else:
        channel = endpoint.rsplit(" ", 1)[1]
        assert (body["channel"], body["author"]["role"]) == (channel, ROLE[caller])
        thread = client.get(f"/api/v1/cases/{record.id}/messages?channel={channel}",
                            headers=callers[caller]).json
        assert thread[-1]["id"] == body["id"]


# --- Tests: lists leak nothing, whatever the page size and filters ----------------------------

def walk_pages(client, headers, query: dict) -> list[list[int]]:
    """Every page of GET /cases for this query, following next_cursor to the end."""
    pages, cursor = [], None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/api/v1/cases", query_string=params, headers=headers)
        assert answer.status_code == 200, answer.json
        pages.append([case["id"] for case in answer.json["items"]])
        cursor = answer.json["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) <= 50, "pagination does not end"


FILTERS = {
    "status=open": ({"status": "open"}, lambda c: c.status == "open"),
    "status=escalated": ({"status": "escalated"}, lambda c: c.status == "escalated"),
    "status=resolved": ({"status": "resolved"}, lambda c: c.status == "resolved"),
    "status=closed": ({"status": "closed"}, lambda c: c.status == "closed"),
    "severity=S1": ({"severity": "S1"}, lambda c: c.severity == "S1"),
    "severity=S2": ({"severity": "S2"}, lambda c: c.severity == "S2"),
    "severity=S3": ({"severity": "S3"}, lambda c: c.severity == "S3"),
    "severity=S4": ({"severity": "S4"}, lambda c: c.severity == "S4"),
    # Words and serial fragments shared by several tenants' cases.
    "q=reboot": ({"q": "reboot"}, lambda c: "reboot" in c.title.lower()),
    "q=UPLINK": ({"q": "UPLINK"}, lambda c: "uplink" in c.title.lower()),
    "q=0002": ({"q": "0002"}, lambda c: "0002" in c.serial_number),
    "q=acme-": ({"q": "acme-"}, lambda c: c.serial_number.startswith("ACME-")),
    # LIKE wildcards are searched for literally, so they match nothing here.
    "q=%": ({"q": "%"}, lambda c: False),
    "q=_": ({"q": "_"}, lambda c: False),
    # Each pair of filters as well: the list's statement is built once per set of filters given.
    "status+severity": ({"status": "open", "severity": "S1"}, lambda c: c.status == "open" and c.severity == "S1"),
    "status+q": ({"status": "closed", "q": "uplink"}, lambda c: c.status == "closed" and "uplink" in c.title.lower()),
    "severity+q": ({"severity": "S2", "q": "0002"}, lambda c: c.severity == "S2" and "0002" in c.serial_number),
    "status+severity+q": ({"status": "escalated", "severity": "S1", "q": "stack"},
                          lambda c: c.status == "escalated" and c.severity == "S1"
                          and "stack" in c.title.lower()),
}


@pytest.mark.parametrize("caller", CASE_ROLES)
def test_list_pages_hold_exactly_the_visible_cases(client, callers, case_book, caller):
    expected = case_book.ids(VISIBLE[caller])

    def check(caller, page_size, _status):
        limit = int(page_size.removeprefix("limit="))
        pages = walk_pages(client, callers[caller], {"limit": limit})
        assert [case_id for page in pages for case_id in page] == expected
        assert all(len(page) == limit for page in pages[:-1])
        assert len(pages) == max(1, -(-len(expected) // limit))

    check_every_cell([(caller, f"limit={limit}", 200) for limit in (1, 2, 3, 100)], check)


@pytest.mark.parametrize("name", FILTERS)
def test_list_filters_stay_within_the_tenant(client, callers, case_book, name):
    query, keep = FILTERS[name]

    def check(caller, page_size, _status):
        expected = case_book.ids(lambda case: VISIBLE[caller](case) and keep(case))
        pages = walk_pages(client, callers[caller], {**query, "limit": page_size.removeprefix("limit=")})
        assert [case_id for page in pages for case_id in page] == expected

    check_every_cell([(caller, f"limit={limit}", 200) for caller in CASE_ROLES for limit in (1, 100)],
                     check)


def test_the_data_set_gives_every_list_check_something_to_catch(case_book):
    """Each role sees some cases and not others; each filter matches cases some role may not see."""
    cases = case_book.cases.values()
    for caller, visible in VISIBLE.items():
        assert any(visible(c) for c in cases) and not all(visible(c) for c in cases), caller
    for name, (_query, keep) in FILTERS.items():
        if name not in {"q=%", "q=_"}:
            assert any(keep(c) and not visible(c) for c in cases for visible in VISIBLE.values()), name


def test_a_cursor_does_not_carry_one_tenant_into_another(client, callers, case_book):
    first = client.get("/api/v1/cases?limit=1", headers=callers["engineer"]).json
    answer = client.get("/api/v1/cases", query_string={"cursor": first["next_cursor"]},
                        headers=callers["fabrikam"])
    assert answer.status_code == 200
    before = first["items"][0]["id"]
    assert [c["id"] for c in answer.json["items"]] == case_book.ids(
        lambda case: VISIBLE["fabrikam"](case) and case.id < before)


def test_programs_may_not_list_cases_even_filtered(client, callers, case_book):
    for query in ({}, {"status": "open"}, {"q": "reboot"}, {"limit": 1}):
        answer = client.get("/api/v1/cases", query_string=query, headers=callers["programs"])
        assert_error(answer, 403, "role_not_allowed")


# --- The administration (/api/v1/admin): the vendor admin's alone ------------------------------
#
# Every operation on objects of both tenants: Northwind's side (Northwind, its customer Acme) and
# Contoso's (Contoso, its customer Fabrikam). The role is refused before anything is looked up, so
# every other role gets 403 whichever tenant the object belongs to, its own included: a partner
# admin does not administer even its own partner record here.
ADMIN_OPERATIONS = {
    # name: (method, path, body, status for the vendor admin)
    "GET partners": ("GET", "/admin/partners", None, 200),
    "POST partners": ("POST", "/admin/partners", {"name": "Tailspin {side}", "tier": "PW", "region": "APAC"}, 201),
    "GET partner": ("GET", "/admin/partners/{partner}", None, 200),
    "PATCH partner": ("PATCH", "/admin/partners/{partner}", {"tier": "PWP", "region": "AMER"}, 200),
    "POST suspension": ("POST", "/admin/partners/{partner}/suspension", None, 200),
    "DELETE suspension": ("DELETE", "/admin/partners/{partner}/suspension", None, 200),
    "GET customers": ("GET", "/admin/customers?partner_id={partner}", None, 200),
    "POST customers": ("POST", "/admin/customers", {"name": "Initech {side}", "partner_id": "{partner}"}, 201),
    "GET customer": ("GET", "/admin/customers/{customer}", None, 200),
    "PATCH customer": ("PATCH", "/admin/customers/{customer}", {"name": "{customer_name} Group"}, 200),
    "GET products": ("GET", "/admin/products", None, 200),
    "POST products": ("POST", "/admin/products", {"family": "EXOS", "model": "X590-{side}", "name": "X590"}, 201),
    "PATCH product": ("PATCH", "/admin/products/{product}", {"name": "Renamed model"}, 200),
    "GET certifications": ("GET", "/admin/certifications?partner_id={partner}", None, 200),
    "POST extensions": ("POST", "/admin/certifications/extensions", {"days": 30, "product_family": "{family}"}, 200),
}
ADMIN_COLUMNS = ("northwind", "contoso")
# Each side's partner, customer, product and certified family.
SIDES = {"northwind": ("Northwind Networks", "Acme Corp", "X465-48T", "WING"),
         "contoso": ("Contoso Integrators", "Fabrikam Ltd", "VSP4900-48P", "VOSS")}
ADMIN = {
    #                 northwind  contoso
    "engineer":      (403,       403),
    "admin":         (403,       403),
    "customer":      (403,       403),
    "contoso":       (403,       403),
    "fabrikam":      (403,       403),
    "gtac":          (403,       403),
    "manager":       (403,       403),
    "programs":      (403,       403),
    "vendor_admin":  ("ok",      "ok"),
    "anonymous":     (401,       401),
    "bad_token":     (401,       401),
    "revoked_token": (401,       401),
}


def test_the_admin_table_has_a_row_for_every_caller_and_covers_every_admin_operation(client):
    assert set(ADMIN) == {*ROLE, *NO_CREDENTIALS}
    document = client.get("/api/v1/openapi.json").json
    listed = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
              if path.startswith("/api/v1/admin/") and method in ("get", "post", "put", "patch", "delete")}
    covered = {f"{method} /api/v1{path.split('?')[0]}" for method, path, _, _ in ADMIN_OPERATIONS.values()}
    covered = {c.replace("{partner}", "{partner_id}").replace("{customer}", "{customer_id}")
               .replace("{product}", "{product_id}") for c in covered}
    assert covered == listed


@pytest.mark.parametrize("operation", ADMIN_OPERATIONS)
def test_admin_operation(app, client, callers, demo, row_counts, operation):
    method, path, body, success = ADMIN_OPERATIONS[operation]

    def values(side):
        partner, customer, model, family = SIDES[side]
        return {"partner": org_id(app, partner), "customer": org_id(app, customer), "customer_name": customer,
                "product": product_id(app, model), "family": family, "side": side}

    # Read before any cell renames what they are found by.
    known = {side: values(side) for side in ADMIN_COLUMNS}

    def fill(template, side):
        found = known[side]
        if isinstance(template, str):
            filled = template.format(**found)
            return int(filled) if template in ("{partner}", "{customer}") else filled
        if isinstance(template, dict):
            return {key: fill(value, side) for key, value in template.items()}
        return template

    def check(caller, side, status):
        if operation == "DELETE suspension":
            _suspend_directly(app, SIDES[side][0])
        before = row_counts()
        answer = client.open("/api/v1" + fill(path, side), method=method, json=fill(body, side),
                             headers=callers[caller])
        if status != "ok":
            code = unauthenticated_code(caller) if status == 401 else "role_not_allowed"
            assert_refused(answer, status, code)
            assert row_counts() == before, "a refused request wrote rows"
            return
        assert answer.status_code == success, answer.get_data(as_text=True)[:300]
        _check_admin_answer(operation, side, known[side], answer.json)
        if method != "GET":
            assert row_counts()["audit_events"] > before["audit_events"], "an administrative change is audited"

    check_every_cell(cells(ADMIN, ADMIN_COLUMNS), check)


def _suspend_directly(app, partner_name: str) -> None:
    with app.app_context():
        partner = db.session.scalars(sa.select(Organisation).filter_by(name=partner_name)).one()
        partner.suspended_at = partner.suspended_at or now()
        db.session.commit()
        db.session.remove()


def _check_admin_answer(operation, side, found, body):
    partner, customer, _model, family = SIDES[side]
    if operation == "GET partners":
        assert {"Northwind Networks", "Contoso Integrators"} <= {p["name"] for p in body}
    elif operation in ("GET partner", "POST suspension", "DELETE suspension", "PATCH partner"):
        assert (body["id"], body["kind"]) == (found["partner"], "partner")
        if operation == "PATCH partner":
            assert (body["tier"], body["region"]) == ("PWP", "AMER")
        if operation in ("POST suspension", "DELETE suspension"):
            assert body["suspended"] is (operation == "POST suspension")
    elif operation == "GET customers":
        assert [c["name"] for c in body] == [customer]
    elif operation == "POST customers":
        assert body["partner"]["name"] == partner
    elif operation in ("GET customer", "PATCH customer"):
        assert body["id"] == found["customer"] and body["partner"]["name"] == partner
    elif operation == "GET certifications":
        assert body and {c["partner"]["name"] for c in body} == {partner}
    elif operation == "POST extensions":
        assert body["extended"] >= 1
    elif operation in ("GET products", "POST products", "PATCH product"):
        assert body


# The vendor admin runs support operations (who and what is set up), not support or payments: like
# programs it sees no case (GENERAL, CASE_MATRIX), and unlike programs no claim, payout or balance either.
NOT_THE_VENDOR_ADMINS = ("/api/v1/srs", "/api/v1/claims", "/api/v1/payouts", "/api/v1/ledger/balances",
                         "/api/v1/mdf-allocations", "/api/v1/webhooks", "/api/v1/cases")


def test_the_vendor_admin_reads_no_support_or_payments_data(client, callers, case_book):
    def check(path, _caller, status):
        assert_refused(client.get(path, headers=callers["vendor_admin"]), status, "role_not_allowed")

    check_each([(path, "vendor_admin", 403) for path in NOT_THE_VENDOR_ADMINS], check,
               describe=lambda path, *_: path)


# --- User administration (SPEC §2: a partner admin manages its engineers and customers) -------
#
# Targets are users made for the test, one per tenant, so that deactivating one never takes a
# caller's own token away. "northwind" is a Northwind engineer, "acme" a user of its customer;
# "contoso" and "fabrikam" the same for the other partner; "vendor" a GTAC engineer.
USER_CALLERS = (*ROLE, *NO_CREDENTIALS)
USER_TARGETS = {"northwind": ("Northwind Networks", "partner_engineer"), "acme": ("Acme Corp", "customer"),
                "contoso": ("Contoso Integrators", "partner_engineer"), "fabrikam": ("Fabrikam Ltd", "customer"),
                "vendor": ("Extreme GTAC", "gtac_engineer")}
USER_COLUMNS = tuple(USER_TARGETS)
NOT_AN_ADMIN = (403,) * 5
ONE_USER = {  # GET, PATCH (name), deactivation, reactivation of a target user
    #                northwind  acme  contoso  fabrikam  vendor
    "engineer":     NOT_AN_ADMIN,
    "admin":        (200,       200,  404,     404,      404),
    "customer":     NOT_AN_ADMIN,
    "contoso":      NOT_AN_ADMIN,
    "fabrikam":     NOT_AN_ADMIN,
    "gtac":         NOT_AN_ADMIN,
    "manager":      NOT_AN_ADMIN,
    "programs":     NOT_AN_ADMIN,
    "vendor_admin": (200,       200,  200,     200,      200),
    **{caller: (401,) * 5 for caller in NO_CREDENTIALS},
}
# Inviting again a user who has already chosen a password: a visible one is a conflict, not a 200.
INVITE_AGAIN = {caller: tuple(409 if status == 200 else status for status in row) for caller, row in ONE_USER.items()}
USER_MATRIX = {
    "GET /users/{id}": ONE_USER,
    "PATCH /users/{id}": ONE_USER,
    "POST /users/{id}/deactivation": ONE_USER,
    "POST /users/{id}/reactivation": ONE_USER,
    "POST /users/{id}/invitation": INVITE_AGAIN,
}
# GET /users; POST /users into the caller's own organisation, and into another tenant's (Fabrikam;
# Acme for the vendor's admin); PUT /me/password with the caller's own current password.
USER_GENERAL_COLUMNS = ("GET users", "POST users own", "POST users foreign", "PUT me/password")
USER_GENERAL = {
    "engineer":     (403, 403, 403, 204),
    "admin":        (200, 201, 422, 204),
    "customer":     (403, 403, 403, 204),
    "contoso":      (403, 403, 403, 204),
    "fabrikam":     (403, 403, 403, 204),
    "gtac":         (403, 403, 403, 204),
    "manager":      (403, 403, 403, 204),
    "programs":     (403, 403, 403, 204),
    "vendor_admin": (200, 201, 201, 204),
    **{caller: (401,) * 4 for caller in NO_CREDENTIALS},
}
USER_ERROR = {403: "role_not_allowed", 404: "user_not_found", 409: "not_invited", 422: "organisation_not_found"}
OWN_ROLE = {"admin": "partner_engineer", "vendor_admin": "gtac_engineer"}


@pytest.fixture
def targets(app, demo) -> dict[str, int]:
    """One extra user in each tenant, by USER_TARGETS name."""
    ids = {}
    with app.app_context():
        password_hash = db.session.get(User, demo["engineer"].id).password_hash
        for name, (organisation, role) in USER_TARGETS.items():
            organisation_id = db.session.scalar(sa.select(Organisation.id).where(Organisation.name == organisation))
            user = User(email=f"target@{name}.example", name=f"Target {name}", role=Role(role),
                        organisation_id=organisation_id, password_hash=password_hash)
            db.session.add(user)
            db.session.flush()
            ids[name] = user.id
        db.session.commit()
        db.session.remove()
    return ids


def test_the_user_tables_have_a_row_for_every_caller():
    for table in (*USER_MATRIX.values(), USER_GENERAL):
        assert set(table) == set(USER_CALLERS)


@pytest.mark.parametrize("endpoint", USER_MATRIX)
def test_user_endpoint(client, callers, targets, row_counts, endpoint):
    method, path = endpoint.split(" ")

    def check(caller, target, status):
        url = "/api/v1" + path.replace("{id}", str(targets[target]))
        before = row_counts()
        if method == "PATCH":
            answer = client.patch(url, json={"name": f"Renamed by {caller}"}, headers=callers[caller])
        else:
            answer = client.open(url, method=method, headers=callers[caller])
        if status >= 400:
            code = unauthenticated_code(caller) if status == 401 else USER_ERROR[status]
            assert_refused(answer, status, code)
            assert row_counts() == before, "a refused request wrote rows"
            return
        assert answer.status_code == status, answer.get_data(as_text=True)[:300]
        body = answer.json
        assert (body["id"], body["email"]) == (targets[target], f"target@{target}.example")
        assert body["organisation"]["name"] == USER_TARGETS[target][0]
        if method == "PATCH":
            assert body["name"] == f"Renamed by {caller}"
        elif path.endswith("deactivation"):
            assert body["active"] is False
        elif path.endswith("reactivation"):
            assert body["active"] is True

    check_every_cell(cells(USER_MATRIX[endpoint], USER_COLUMNS), check)


@pytest.mark.parametrize("endpoint", USER_GENERAL_COLUMNS)
def test_user_general_endpoint(app, client, callers, targets, row_counts, endpoint):
    column = USER_GENERAL_COLUMNS.index(endpoint)
    foreign = {"admin": "Fabrikam Ltd", "vendor_admin": "Acme Corp"}

    def check(caller, _endpoint, status):
        headers = callers[caller]
        before = row_counts()
        if endpoint == "GET users":
            answer = client.get("/api/v1/users?limit=100", headers=headers)
        elif endpoint == "PUT me/password":
            answer = client.put("/api/v1/me/password", headers=headers, json={
                "current_password": "demo-password", "new_password": f"new password of {caller}"})
        else:
            body = {"email": f"new.{caller}.{column}@example.com", "name": "New Person",
                    "role": OWN_ROLE.get(caller, "partner_engineer")}
            if endpoint.endswith("foreign"):
                body |= {"organisation_id": _organisation_id(app, foreign.get(caller, "Fabrikam Ltd")),
                         "role": "customer"}
            answer = client.post("/api/v1/users", json=body, headers=headers)
        if status >= 400:
            code = unauthenticated_code(caller) if status == 401 else USER_ERROR[status]
            assert_refused(answer, status, code)
            assert row_counts() == before, "a refused request wrote rows"
            return
        assert answer.status_code == status, answer.get_data(as_text=True)[:300]
        if endpoint == "GET users":
            seen = {user["email"] for user in answer.json["items"]}
            expected = {f"target@{name}.example" for name, row in zip(USER_COLUMNS, ONE_USER[caller]) if row == 200}
            assert {email for email in seen if email.startswith("target@")} == expected
        elif endpoint == "PUT me/password":
            assert client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS[caller], f"new password of {caller}")
                               ).status_code == 201
        else:
            assert answer.json["invitation_pending"] is True

    check_every_cell([(caller, endpoint, row[column]) for caller, row in USER_GENERAL.items()], check)


def _organisation_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name))




# --- Rebate programmes (SPEC §11) ---------------------------------------------------------------
#
# On the demo's Growth Rebate and its current quarter. "nw" is Northwind's attainment, "co" Contoso's:
# a partner's users see only their own organisation's (404 for the other's); the programmes team runs
# everything; other roles may not ask (403). Closing the current quarter is refused until it is over
# (422), and so is approving its claims while it is open.
PROGRAMME_COLUMNS = ("GET list", "GET one", "POST create", "POST period", "PUT target", "GET targets",
                     "POST preview", "POST alleviation", "POST sales", "GET attainment", "GET nw", "GET co",
                     "POST close", "POST approvals")
UNAUTHENTICATED_PROGRAMMES = {caller: (401,) * 14 for caller in NO_CREDENTIALS}
_NO_PROGRAMMES = (403,) * 14
PROGRAMME_MATRIX = {
    #             list one  create period target targets preview allev sales attain nw   co   close approve
    "engineer":  (200, 200, 403,   403,   403,   200,    403,    403,  403,  200,   200, 404, 403,  403),
    "admin":     (200, 200, 403,   403,   403,   200,    403,    403,  403,  200,   200, 404, 403,  403),
    "contoso":   (200, 200, 403,   403,   403,   200,    403,    403,  403,  200,   404, 200, 403,  403),
    "customer":  _NO_PROGRAMMES,
    "fabrikam":  _NO_PROGRAMMES,
    "gtac":      _NO_PROGRAMMES,
    "manager":   _NO_PROGRAMMES,
    "vendor_admin": _NO_PROGRAMMES,
    "programs":  (200, 200, 201,   201,   200,   200,    200,    201,  200,  200,   200, 200, 422,  422),
    **UNAUTHENTICATED_PROGRAMMES,
}
PROGRAMME_ERROR = {403: "role_not_allowed", 404: "partner_not_found", 422: {"POST close": "period_not_over",
                                                                            "POST approvals": "period_open"}}


def _programme_ids(app) -> dict:
    from app.accounts.models import Organisation
    from app.extensions import db
    from app.programmes.models import RebateProgramme

    with app.app_context():
        programme = db.session.scalars(sa.select(RebateProgramme)).one()
        ids = {"programme": programme.id, "period": programme.periods[-1].id,
               "period_start": programme.periods[-1].starts_on,
               **{name: db.session.scalar(sa.select(Organisation.id).where(Organisation.name == full))
                  for name, full in (("nw", "Northwind Networks"), ("co", "Contoso Integrators"))}}
        db.session.remove()
    return ids


def _call_programmes(client, headers, ids, endpoint):
    import io

    base = f"/api/v1/programmes/{ids['programme']}"
    period = f"{base}/periods/{ids['period']}"
    start = ids["period_start"].isoformat()
    calls = {
        "GET list": lambda: client.get("/api/v1/programmes", headers=headers),
        "GET one": lambda: client.get(base, headers=headers),
        "POST create": lambda: client.post("/api/v1/programmes", headers=headers, json={
            "name": "Matrix Rebate", "currency": "EUR", "baseline_target": 100_000}),
        "POST period": lambda: client.post(f"{base}/periods", headers=headers, json={
            "label": "2031-Q1", "starts_on": "2031-01-01", "ends_on": "2031-03-31"}),
        "PUT target": lambda: client.put(f"{base}/targets", headers=headers, json={
            "partner_id": ids["nw"], "amount": 123_400, "effective_from": start}),
        "GET targets": lambda: client.get(f"{period}/targets", headers=headers),
        "POST preview": lambda: client.post(f"{base}/alleviations/preview", headers=headers, json={
            "effective_from": start, "reduction_bp": 500}),
        "POST alleviation": lambda: client.post(f"{base}/alleviations", headers=headers, json={
            "effective_from": start, "reduction_bp": 500, "reason": "Matrix"}),
        "POST sales": lambda: client.post("/api/v1/programmes/sales", headers=headers, content_type="multipart/form-data",
                                          data={"file": (io.BytesIO(
                                              b"partner,invoice_reference,date,product_family,amount,currency\n"
                                              + f"Northwind Networks,INV-MATRIX,{start},EXOS,10.00,USD\n".encode()),
                                              "m.csv")}),
        "GET attainment": lambda: client.get(f"{period}/attainment", headers=headers),
        "GET nw": lambda: client.get(f"{period}/partners/{ids['nw']}/attainment", headers=headers),
        "GET co": lambda: client.get(f"{period}/partners/{ids['co']}/attainment", headers=headers),
        "POST close": lambda: client.post(f"{period}/close", headers=headers),
        "POST approvals": lambda: client.post(f"{period}/approvals", headers=headers),
    }
    return calls[endpoint]()


PROGRAMME_SEES = {"engineer": ["Northwind Networks"], "admin": ["Northwind Networks"],
                  "contoso": ["Contoso Integrators"], "programs": ["Contoso Integrators", "Northwind Networks"]}


def test_every_caller_has_a_row_of_programme_endpoints():
    assert set(PROGRAMME_MATRIX) == {*ROLE, *NO_CREDENTIALS}


@pytest.mark.parametrize("endpoint", PROGRAMME_COLUMNS)
def test_programme_endpoint(app, client, callers, row_counts, endpoint):
    ids = _programme_ids(app)
    column = PROGRAMME_COLUMNS.index(endpoint)

    def check(caller, _endpoint, status):
        before = row_counts()
        answer = _call_programmes(client, callers[caller], ids, endpoint)
        if status >= 400:
            code = PROGRAMME_ERROR.get(status)
            code = unauthenticated_code(caller) if status == 401 else (
                code[endpoint] if isinstance(code, dict) else code)
            assert_refused(answer, status, code)
            assert row_counts() == before, "a refused request wrote rows"
            return
        assert answer.status_code == status, answer.get_data(as_text=True)[:300]
        body = answer.json
        if endpoint == "GET attainment":
            assert [row["partner"]["name"] for row in body["items"]] == PROGRAMME_SEES[caller]
        elif endpoint == "GET targets":
            assert [row["partner"]["name"] for row in body["items"]] == PROGRAMME_SEES[caller]
        elif endpoint in ("GET nw", "GET co"):
            assert body["partner"]["id"] == ids[endpoint[-2:]]
        elif endpoint == "GET list":
            assert [p["name"] for p in body] == ["Growth Rebate"]

    check_every_cell([(caller, endpoint, row[column]) for caller, row in PROGRAMME_MATRIX.items()], check)




# --- Service contracts and bulk imports: the vendor admin's alone ----------------------------
#
# Contracts are the vendor's records, not a tenant's: every role but vendor_admin is refused by
# role (403), for a contract of Northwind's customer (Acme) as for one of Contoso's (Fabrikam).
RECORDS_COLUMNS = ("GET contracts", "POST contracts", "GET acme", "GET fabrikam", "PATCH acme", "PATCH fabrikam",
                   "POST serial acme", "POST serial fabrikam", "DELETE serial acme", "DELETE serial fabrikam",
                   "POST import contracts", "POST import certifications")
RECORDS_ADMIN = (200, 201, 200, 200, 200, 200, 201, 201, 204, 204, 200, 200)
RECORDS = {
    **{caller: (403,) * len(RECORDS_COLUMNS) for caller in ROLE},
    "vendor_admin": RECORDS_ADMIN,
    **{caller: (401,) * len(RECORDS_COLUMNS) for caller in NO_CREDENTIALS},
}
CONTRACT_OF = {"acme": "PWP-ACME-2026", "fabrikam": "PW-FAB-2026"}
SERIAL_OF = {"acme": "ACME-0010", "fabrikam": "FAB-0005"}
EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "imports" / "examples"


def test_the_records_table_has_a_row_for_every_caller():
    assert set(RECORDS) == {*ROLE, *NO_CREDENTIALS}


@pytest.mark.parametrize("endpoint", RECORDS_COLUMNS)
def test_contracts_and_imports_endpoint(app, client, callers, row_counts, endpoint):
    column = RECORDS_COLUMNS.index(endpoint)
    headers = callers
    with app.app_context():
        contracts = {number: (contract_id, customer_id) for number, contract_id, customer_id in db.session.execute(
            sa.select(ServiceContract.number, ServiceContract.id, ServiceContract.customer_id))}
        db.session.remove()

    def check(caller, _endpoint, status):
        before = row_counts()
        answer = _call_records(client, headers[caller], contracts, endpoint, caller)
        if status >= 400:
            assert_refused(answer, status, unauthenticated_code(caller) if status == 401 else "role_not_allowed")
            assert row_counts() == before, "a refused request wrote rows"
            return
        assert answer.status_code == status, answer.get_data(as_text=True)[:300]

    check_every_cell([(caller, endpoint, row[column]) for caller, row in RECORDS.items()], check)


def _call_records(client, headers, contracts, endpoint, caller):
    verb, _, target = endpoint.partition(" ")
    tenant = target.rpartition(" ")[2]
    contract_id, customer_id = contracts[CONTRACT_OF.get(tenant, "PWP-ACME-2026")]
    url = f"/api/v1/contracts/{contract_id}"
    if endpoint == "GET contracts":
        return client.get("/api/v1/contracts", headers=headers)
    if endpoint == "POST contracts":
        return client.post("/api/v1/contracts", headers=headers, json={
            "number": f"PW-{caller}", "level": "PW", "customer_id": customer_id,
            "starts_on": "2027-01-01", "ends_on": "2027-12-31"})
    if target.startswith("import"):
        kind = target.split()[1]
        return client.post(f"/api/v1/imports/{kind}", headers=headers, content_type="multipart/form-data",
                           data={"file": ((EXAMPLES / f"{kind}.csv").open("rb"), f"{kind}.csv")})
    if verb == "GET":
        return client.get(url, headers=headers)
    if verb == "PATCH":
        return client.patch(url, headers=headers, json={"ends_on": "2031-06-30"})
    if verb == "POST":
        return client.post(f"{url}/serials", headers=headers,
                           json={"serial_number": f"NEW-{tenant}", "product_model": "X465-48T"})
    return client.delete(f"{url}/serials/{SERIAL_OF[tenant]}", headers=headers)



# --- The programme platform's integrations (issue #16) ------------------------------------------
#
# Integrations are the vendor's: the vendor admin and the programmes team register, list, suspend
# and reactivate them and read their callbacks; to every other role they do not exist (403 for the
# lists, 404 for one integration). The claims push is machine only: it takes the integration's
# signature, never a person's token, so every caller here is refused with 401.
INTEGRATION_COLUMNS = ("POST register", "GET list", "POST suspension", "POST reactivation", "GET callbacks",
                       "POST push")
_NO_INTEGRATIONS = (403, 403, 404, 404, 404, 401)
INTEGRATION_MATRIX = {
    **{caller: _NO_INTEGRATIONS for caller in ROLE},
    "programs": (201, 200, 200, 200, 200, 401),
    "vendor_admin": (201, 200, 200, 200, 200, 401),
    **{caller: (401,) * len(INTEGRATION_COLUMNS) for caller in NO_CREDENTIALS},
}
INTEGRATION_ERROR = {403: "role_not_allowed", 404: "integration_not_found"}


@pytest.fixture
def registered_integration(app, demo, monkeypatch) -> int:
    from app.integrations import services as integrations

    monkeypatch.setitem(app.config, "SR_WEBHOOK_ALLOW_PRIVATE", True)  # the callback URL is on loopback
    with app.app_context():
        integration, _secret = integrations.register(db.session.get(User, demo["programs"].id),
                                                     "Matrix platform", "http://127.0.0.1:9/callbacks")
        db.session.remove()
    return integration.id


def _call_integrations(client, headers, integration_id, endpoint, caller):
    base = f"/api/v1/integrations/{integration_id}"
    calls = {
        "POST register": lambda: client.post("/api/v1/integrations", headers=headers, json={
            "name": f"Platform of {caller}", "callback_url": "http://127.0.0.1:9/callbacks"}),
        "GET list": lambda: client.get("/api/v1/integrations", headers=headers),
        "POST suspension": lambda: client.post(f"{base}/suspension", headers=headers),
        "POST reactivation": lambda: client.post(f"{base}/reactivation", headers=headers),
        "GET callbacks": lambda: client.get(f"{base}/callbacks", headers=headers),
        "POST push": lambda: client.post("/api/v1/integrations/claims", headers=headers, json={
            "reference": "CLM-MATRIX", "partner_id": 2, "type": "rebate", "amount": 100, "currency": "USD",
            "period": "2026-Q3", "description": "pushed with a person's token"}),
    }
    return calls[endpoint]()


def test_every_caller_has_a_row_of_integration_endpoints():
    assert set(INTEGRATION_MATRIX) == {*ROLE, *NO_CREDENTIALS}


@pytest.mark.parametrize("endpoint", INTEGRATION_COLUMNS)
def test_integration_endpoint(app, client, callers, row_counts, registered_integration, endpoint):
    column = INTEGRATION_COLUMNS.index(endpoint)

    def check(caller, _endpoint, status):
        before = row_counts()
        answer = _call_integrations(client, callers[caller], registered_integration, endpoint, caller)
        if status >= 400:
            if endpoint == "POST push":
                code = "missing_signature"  # whatever token comes, or none: the push asks for a signature
            elif status == 401:
                code = unauthenticated_code(caller)
            else:
                code = INTEGRATION_ERROR[status]
            assert_refused(answer, status, code)
            assert row_counts() == before, "a refused request wrote rows"
            return
        assert answer.status_code == status, answer.get_data(as_text=True)[:300]
        if endpoint == "GET list":
            assert "Matrix platform" in [i["name"] for i in answer.json]
            assert all("secret" not in i for i in answer.json)
        elif endpoint == "POST register":
            assert len(answer.json["secret"]) >= 32

    check_every_cell([(caller, endpoint, row[column]) for caller, row in INTEGRATION_MATRIX.items()], check)


# --- Partner status and the Performance & Training Dashboard (SPEC §11) ---------------------------
#
# On the demo's level set. "nw" is Northwind's dashboard, "co" Contoso's: a partner's users see only
# their own organisation's (404 for the other's, and their own row alone in the list); the programmes
# team sees every partner's and alone makes programme-wide changes and grants exceptions; other roles
# may not ask (403).
STATUS_COLUMNS = ("GET levels", "GET list", "GET nw", "GET co", "POST preview", "POST change", "GET changes",
                  "POST exception", "POST level", "POST requirement", "PUT status", "POST training",
                  "POST specialisation")
_NO_STATUS = (403,) * 13
_NO_SETUP = (403,) * 5  # defining levels, setting a level, recording trainings and specialisations
STATUS_MATRIX = {
    #             levels list nw   co   preview change changes exception  level requirement status training spec.
    "engineer":  (200,   200, 200, 404, 403,    403,   403,    403,       *_NO_SETUP),
    "admin":     (200,   200, 200, 404, 403,    403,   403,    403,       *_NO_SETUP),
    "contoso":   (200,   200, 404, 200, 403,    403,   403,    403,       *_NO_SETUP),
    "customer":  _NO_STATUS,
    "fabrikam":  _NO_STATUS,
    "gtac":      _NO_STATUS,
    "manager":   _NO_STATUS,
    "vendor_admin": _NO_STATUS,
    "programs":  (200,   200, 200, 200, 200,    201,   200,    201,       201,  201,        200,   201,     201),
    **{caller: (401,) * 13 for caller in NO_CREDENTIALS},
}
STATUS_SEES = {"engineer": ["Northwind Networks"], "admin": ["Northwind Networks"],
               "contoso": ["Contoso Integrators"], "programs": ["Contoso Integrators", "Northwind Networks"]}


def _status_ids(app) -> dict:
    from app.partner_status.models import LevelRequirement, PartnerLevel

    with app.app_context():
        found = {name: db.session.scalar(sa.select(Organisation.id).where(Organisation.name == full))
                 for name, full in (("nw", "Northwind Networks"), ("co", "Contoso Integrators"))}
        found["requirement"] = db.session.scalar(sa.select(LevelRequirement.id).where(
            LevelRequirement.code == "CERT-EXOS").order_by(LevelRequirement.id.desc()).limit(1))
        found["level"] = db.session.scalar(sa.select(PartnerLevel.id).where(PartnerLevel.name == "Select"))
        found["engineer"] = db.session.scalar(sa.select(User.id).where(User.email == "engineer@northwind.example"))
        db.session.remove()
    return found


def _call_status(client, headers, ids, endpoint):
    from datetime import timedelta

    base = "/api/v1/partner-status"
    far = (now().date() + timedelta(days=800)).isoformat()
    calls = {
        "GET levels": lambda: client.get(f"{base}/levels", headers=headers),
        "GET list": lambda: client.get(f"{base}/partners", headers=headers),
        "GET nw": lambda: client.get(f"{base}/partners/{ids['nw']}", headers=headers),
        "GET co": lambda: client.get(f"{base}/partners/{ids['co']}", headers=headers),
        "POST preview": lambda: client.post(f"{base}/changes/preview", headers=headers,
                                            json={"kind": "extend_levels", "new_date": far}),
        "POST change": lambda: client.post(f"{base}/changes", headers=headers,
                                           json={"kind": "extend_levels", "new_date": far, "reason": "Matrix"}),
        "GET changes": lambda: client.get(f"{base}/changes", headers=headers),
        "POST exception": lambda: client.post(f"{base}/exceptions", headers=headers, json={
            "partner_id": ids["nw"], "requirement_id": ids["requirement"], "until": far, "reason": "Matrix"}),
        "POST level": lambda: client.post(f"{base}/levels", headers=headers, json={
            "name": "Matrix", "rank": 99, "requirements": [
                {"code": "CERT-VOSS", "kind": "certified_engineers", "subject": "VOSS", "minimum": 1,
                 "deadline": far}]}),
        "POST requirement": lambda: client.post(f"{base}/levels/{ids['level']}/requirements", headers=headers, json={
            "code": "TRN-MATRIX", "kind": "training", "subject": "Matrix", "minimum": 1, "deadline": far}),
        "PUT status": lambda: client.put(f"{base}/partners/{ids['nw']}/status", headers=headers, json={
            "level_id": ids["level"], "valid_through": far, "next_review_on": far}),
        "POST training": lambda: client.post(f"{base}/trainings", headers=headers, json={
            "user_id": ids["engineer"], "course": "Matrix", "completed_on": now().date().isoformat()}),
        "POST specialisation": lambda: client.post(f"{base}/specialisations", headers=headers, json={
            "partner_id": ids["nw"], "name": "Matrix", "starts_on": now().date().isoformat(), "ends_on": far}),
    }
    return calls[endpoint]()


def test_every_caller_has_a_row_of_partner_status_endpoints():
    assert set(STATUS_MATRIX) == {*ROLE, *NO_CREDENTIALS}


@pytest.mark.parametrize("endpoint", STATUS_COLUMNS)
def test_partner_status_endpoint(app, client, callers, row_counts, endpoint):
    ids = _status_ids(app)
    column = STATUS_COLUMNS.index(endpoint)

    def check(caller, _endpoint, status):
        before = row_counts()
        answer = _call_status(client, callers[caller], ids, endpoint)
        if status >= 400:
            code = {403: "role_not_allowed", 404: "partner_not_found"}.get(status)
            assert_refused(answer, status, unauthenticated_code(caller) if status == 401 else code)
            assert row_counts() == before, "a refused request wrote rows"
            return
        assert answer.status_code == status, answer.get_data(as_text=True)[:300]
        body = answer.json
        if endpoint == "GET list":
            assert [row["partner"]["name"] for row in body["items"]] == STATUS_SEES[caller]
        elif endpoint in ("GET nw", "GET co"):
            assert body["partner"]["id"] == ids[endpoint[-2:]]
            assert {e["email"].rpartition("@")[2] for e in body["engineers"]} == {
                "northwind.example" if endpoint == "GET nw" else "contoso.example"}

    check_every_cell([(caller, endpoint, row[column]) for caller, row in STATUS_MATRIX.items()], check)
