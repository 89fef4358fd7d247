"""The pages' forms and queries take what the API takes and nothing else: ids within their columns,
amounts as people type them, choices among the offered ones, days within the service's range. Bad
input is a 4xx that writes nothing, never a 500."""
from __future__ import annotations

import base64
import json

import pytest
import sqlalchemy as sa

from app.contracts.models import ServiceContract
from app.extensions import db
from tests.web.helpers import sign_in

BEYOND = "2147483648"  # one past the INTEGER id columns


def cursor(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.fixture
def signed_in(app, demo):
    """signed_in("programs") -> (a client with that user's web session, the session's CSRF token)."""
    def sign(who: str):
        web = app.test_client()
        return web, sign_in(web, who)
    return sign


def test_ids_beyond_their_columns_in_forms_and_queries_are_refused(signed_in, row_counts):
    programs, token = signed_in("programs")
    admin, admin_token = signed_in("vendor_admin")
    gtac, _ = signed_in("gtac")
    before = row_counts()
    answer = programs.post("/payments/programmes/allocations", data={
        "mdf-csrf_token": token, "mdf-partner_id": BEYOND, "mdf-period": "2026-Q3", "mdf-currency": "USD",
        "mdf-amount": "100"})
    assert answer.status_code == 400  # as for any partner not offered
    answer = admin.post("/admin/customers", data={"csrf_token": admin_token, "name": "Initech", "partner_id": BEYOND})
    assert answer.status_code == 400
    assert row_counts() == before
    # A filter's id beyond the columns is refused with the reason, not dropped for an unfiltered list.
    assert programs.get("/partner-status", query_string={"unmet": BEYOND}).status_code == 400
    for page, name in (("/admin/certifications", "partner"), ("/admin/customers", "partner")):
        answer = admin.get(page, query_string={name: BEYOND})
        assert answer.status_code == 400 and "not one this page offers" in answer.get_data(as_text=True)
    admin_of_partner, _ = signed_in("admin")
    for name in ("programme", "period"):
        assert admin_of_partner.get("/rebates", query_string={name: BEYOND}).status_code == 400
        assert admin_of_partner.get("/rebates", query_string={name: "²"}).status_code == 400
    assert admin.get("/admin/certifications", query_string={"partner": ""}).status_code == 200
    assert gtac.get("/srs", query_string={"cursor": cursor({"u": [None, 2**40]})}).status_code == 400


def test_a_name_cursor_with_text_the_database_cannot_take_is_refused(signed_in):
    programs, _ = signed_in("programs")
    for name in ("\ud800", "a\x00b", "n" * 5000):
        raw = json.dumps({"after": [name, 1]}).encode()
        forged = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        assert programs.get("/partner-status", query_string={"cursor": forged}).status_code == 400, name[:10]


@pytest.mark.parametrize("amount", ["NaN", "inf", "Infinity", "1e309", "1e3", "1_000", "\u0663\u0664", "10,50"])
def test_an_amount_nobody_types_is_refused_on_the_claim_and_funding_forms(signed_in, row_counts, amount):
    admin, token = signed_in("admin")
    programs, programs_token = signed_in("programs")
    before = row_counts()
    answer = admin.post("/payments/partner", data={
        "claim-csrf_token": token, "claim-type": "rebate", "claim-amount": amount, "claim-currency": "USD",
        "claim-period": "2026-Q3", "claim-description": "Q3 rebate"})
    assert answer.status_code == 400
    assert "is not a decimal number" in answer.get_data(as_text=True)
    answer = programs.post("/payments/programmes/funding", data={
        "fund-csrf_token": programs_token, "fund-amount": amount, "fund-currency": "USD",
        "fund-reference": "DEP-1"})
    assert answer.status_code == 400
    assert "is not a decimal number" in answer.get_data(as_text=True)
    after = row_counts()
    # The partner's page, drawn again with the error, records that it showed the masked bank details.
    assert after == {**before, "audit_events": after["audit_events"]}


def test_whitespace_is_not_a_choice(signed_in, row_counts):
    engineer, token = signed_in("engineer")
    before = row_counts()
    answer = engineer.post("/account/tokens", data={"csrf_token": token, "name": "PSA", "expires_in_days": " "})
    assert answer.status_code == 400
    assert row_counts() == before
    admin, _ = signed_in("admin")
    assert admin.get("/users", query_string={"status": " "}).status_code == 400


def test_an_engineer_is_chosen_by_ascii_digits(app, signed_in, row_counts):
    from tests.srs.helpers import make_sr

    number = make_sr(app, "new")
    manager, token = signed_in("manager")
    before = row_counts()
    for chosen in ("\u00b2", "\u0663", "9" * 30):
        answer = manager.post(f"/srs/{number}/assignment", data={"csrf_token": token, "assignee_id": chosen})
        assert answer.status_code < 500, chosen
    assert row_counts() == before


def test_days_outside_the_services_range_are_refused_on_the_pages(app, signed_in, row_counts):
    admin, token = signed_in("vendor_admin")
    with app.app_context():
        contract = db.session.scalars(sa.select(ServiceContract).order_by(ServiceContract.id)).first()
        contract_id, terms = contract.id, (contract.starts_on, contract.ends_on)
        customer_id, level = contract.customer_id, contract.level
    answer = admin.post(f"/admin/contracts/{contract_id}", data={
        "csrf_token": token, "level": level, "customer_id": str(customer_id),
        "starts_on": "0001-01-01", "ends_on": "9999-12-31"})
    assert answer.status_code == 400
    with app.app_context():
        assert (db.session.get(ServiceContract, contract_id).starts_on,
                db.session.get(ServiceContract, contract_id).ends_on) == terms
    programs, programs_token = signed_in("programs")
    before = row_counts()
    answer = programs.post("/programmes/1", data={
        "form": "period", "period-csrf_token": programs_token, "period-label": "2030-Q1",
        "period-starts_on": "0001-01-01", "period-ends_on": "0001-03-31"})
    assert answer.status_code == 400
    assert row_counts() == before


def test_a_sales_file_with_a_nul_is_a_bad_line(signed_in, row_counts):
    from io import BytesIO

    programs, token = signed_in("programs")
    before = row_counts()
    bookings = ("partner,invoice_reference,date,product_family,amount,currency\n"
                "Northwind Networks,INV-\x00-1,2026-10-01,EXOS,100,USD\n").encode()
    answer = programs.post("/programmes/sales", content_type="multipart/form-data", data={
        "csrf_token": token, "bookings": (BytesIO(bookings), "q4.csv")})
    assert 400 <= answer.status_code < 500
    assert "contains a NUL character" in answer.get_data(as_text=True)
    assert row_counts() == before
