"""The vendor admin sets up partner and customer organisations through /api/v1/admin; whatever it
refuses leaves every table as it was."""
from __future__ import annotations

import pytest

from tests.administration.helpers import audit_actions, org_id
from tests.api.conftest import assert_error, check_each

PARTNERS = "/api/v1/admin/partners"
CUSTOMERS = "/api/v1/admin/customers"


def test_a_new_partner_is_listed_with_its_tier_and_region_and_audited(app, client, tokens):
    answer = client.post(PARTNERS, json={"name": "  Tailspin Networks ", "tier": "PW", "region": "APAC"},
                         headers=tokens["vendor_admin"])
    assert answer.status_code == 201, answer.json
    created = answer.json
    assert (created["name"], created["tier"], created["region"], created["suspended"]) == (
        "Tailspin Networks", "PW", "APAC", False)
    listed = client.get(PARTNERS, headers=tokens["vendor_admin"]).json
    assert [p["name"] for p in listed] == ["Contoso Integrators", "Northwind Networks", "Tailspin Networks"]
    assert audit_actions(app, "organisation", created["id"]) == [("partner.created", "vendor-admin@vendor.example")]


def test_a_partner_is_renamed_retiered_and_moved_in_one_audited_change(app, client, tokens):
    contoso = org_id(app, "Contoso Integrators")
    answer = client.patch(f"{PARTNERS}/{contoso}", json={"name": "Contoso Global", "tier": "PWP", "region": "EMEA"},
                          headers=tokens["vendor_admin"])
    assert answer.status_code == 200, answer.json
    assert (answer.json["name"], answer.json["tier"], answer.json["region"]) == ("Contoso Global", "PWP", "EMEA")
    assert client.get(f"{PARTNERS}/{contoso}", headers=tokens["vendor_admin"]).json["name"] == "Contoso Global"
    assert audit_actions(app, "organisation", contoso) == [("partner.updated", "vendor-admin@vendor.example")]
    # Only what is sent changes; sending what it already is records nothing.
    assert client.patch(f"{PARTNERS}/{contoso}", json={"tier": "PWP"}, headers=tokens["vendor_admin"]).json[
        "name"] == "Contoso Global"
    assert len(audit_actions(app, "organisation", contoso)) == 1


def test_the_new_tier_counts_at_the_next_escalation_of_that_partner(app, client, tokens):
    """Contoso is PW: re-tiered PWP, an S2 case of its no longer meets the partner_tier refusal."""
    from tests.case_helpers import new_case

    case = new_case(client, tokens["contoso"], serial_number="FAB-0002", severity="S2")

    def reasons():
        answer = client.post(f"/api/v1/cases/{case['id']}/escalation", json={}, headers=tokens["contoso"])
        return {reason["code"] for reason in answer.json["error"]["details"]["reasons"]}

    assert "partner_tier" in reasons()
    client.patch(f"{PARTNERS}/{org_id(app, 'Contoso Integrators')}", json={"tier": "PWP"},
                 headers=tokens["vendor_admin"])
    assert "partner_tier" not in reasons()


BAD_PARTNERS = {
    "unknown tier": ({"name": "Tailspin", "tier": "Gold", "region": "EMEA"}, 400, "invalid_input"),
    "tier in lower case": ({"name": "Tailspin", "tier": "pwp", "region": "EMEA"}, 400, "invalid_input"),
    "unknown region": ({"name": "Tailspin", "tier": "PW", "region": "MARS"}, 400, "invalid_input"),
    "empty name": ({"name": "", "tier": "PW", "region": "EMEA"}, 400, "invalid_input"),
    "blank name": ({"name": "   ", "tier": "PW", "region": "EMEA"}, 400, "invalid_input"),
    "name too long": ({"name": "T" * 201, "tier": "PW", "region": "EMEA"}, 400, "invalid_input"),
    "name not text": ({"name": 42, "tier": "PW", "region": "EMEA"}, 400, "invalid_input"),
    "name on two lines": ({"name": "Tailspin\nNetworks", "tier": "PW", "region": "EMEA"}, 400, "invalid_input"),
    "name with a control character": ({"name": "Tail\x1bspin", "tier": "PW", "region": "EMEA"}, 400,
                                      "invalid_input"),
    "no tier": ({"name": "Tailspin", "region": "EMEA"}, 400, "invalid_input"),
    "unknown field": ({"name": "Tailspin", "tier": "PW", "region": "EMEA", "suspended": True}, 400,
                      "invalid_input"),
    "duplicate name": ({"name": "Northwind Networks", "tier": "PW", "region": "EMEA"}, 409,
                       "organisation_name_taken"),
    "duplicate in another case": ({"name": "NORTHWIND networks", "tier": "PW", "region": "EMEA"}, 409,
                                  "organisation_name_taken"),
    "a customer's name": ({"name": "Acme Corp", "tier": "PW", "region": "EMEA"}, 409, "organisation_name_taken"),
}


def test_bad_partners_are_refused_and_change_nothing(client, tokens, row_counts):
    def check(name, body, status, code):
        before = row_counts()
        assert_error(client.post(PARTNERS, json=body, headers=tokens["vendor_admin"]), status, code)
        assert row_counts() == before

    check_each([(name, *case) for name, case in BAD_PARTNERS.items()], check)


BAD_PARTNER_CHANGES = {
    "unknown tier": ({"tier": "Gold"}, 400, "invalid_input"),
    "blank name": ({"name": " "}, 400, "invalid_input"),
    "null name": ({"name": None}, 400, "invalid_input"),
    "name too long": ({"name": "x" * 201}, 400, "invalid_input"),
    "another's name": ({"name": "contoso integrators"}, 409, "organisation_name_taken"),
    "a suspension by the back door": ({"suspended_at": "2026-01-01T00:00:00Z"}, 400, "invalid_input"),
}


def test_bad_partner_changes_are_refused_and_change_nothing(app, client, tokens, row_counts):
    northwind = org_id(app, "Northwind Networks")

    def check(name, body, status, code):
        before = row_counts()
        assert_error(client.patch(f"{PARTNERS}/{northwind}", json=body, headers=tokens["vendor_admin"]),
                     status, code)
        assert row_counts() == before

    check_each([(name, *case) for name, case in BAD_PARTNER_CHANGES.items()], check)
    assert client.get(f"{PARTNERS}/{northwind}", headers=tokens["vendor_admin"]).json["name"] == "Northwind Networks"


@pytest.mark.parametrize("name", ["Acme Corp", "Extreme GTAC"])
def test_an_organisation_that_is_no_partner_is_not_found_among_the_partners(app, client, tokens, name):
    other = org_id(app, name)
    assert_error(client.get(f"{PARTNERS}/{other}", headers=tokens["vendor_admin"]), 404, "partner_not_found")
    assert_error(client.patch(f"{PARTNERS}/{other}", json={"tier": "PW"}, headers=tokens["vendor_admin"]),
                 404, "partner_not_found")
    assert_error(client.post(f"{PARTNERS}/{other}/suspension", headers=tokens["vendor_admin"]),
                 404, "partner_not_found")


def test_a_customer_is_created_under_a_partner_and_listed_with_it(app, client, tokens):
    northwind = org_id(app, "Northwind Networks")
    answer = client.post(CUSTOMERS, json={"name": "Initech", "partner_id": northwind},
                         headers=tokens["vendor_admin"])
    assert answer.status_code == 201, answer.json
    assert answer.json["partner"] == {"id": northwind, "name": "Northwind Networks"}
    mine = client.get(CUSTOMERS, query_string={"partner_id": northwind}, headers=tokens["vendor_admin"]).json
    assert [c["name"] for c in mine] == ["Acme Corp", "Initech"]
    assert [c["name"] for c in client.get(CUSTOMERS, headers=tokens["vendor_admin"]).json] == [
        "Acme Corp", "Fabrikam Ltd", "Initech"]
    assert audit_actions(app, "organisation", answer.json["id"]) == [
        ("customer.created", "vendor-admin@vendor.example")]


def test_bad_customers_are_refused_and_change_nothing(app, client, tokens, row_counts):
    northwind, acme, vendor = (org_id(app, n) for n in ("Northwind Networks", "Acme Corp", "Extreme GTAC"))
    client.post(f"{PARTNERS}/{org_id(app, 'Contoso Integrators')}/suspension", headers=tokens["vendor_admin"])
    contoso = org_id(app, "Contoso Integrators")
    cases = {
        "a customer as its partner": ({"name": "Initech", "partner_id": acme}, 422, "not_a_partner"),
        "the vendor as its partner": ({"name": "Initech", "partner_id": vendor}, 422, "not_a_partner"),
        "no such partner": ({"name": "Initech", "partner_id": 99999}, 422, "not_a_partner"),
        "a suspended partner": ({"name": "Initech", "partner_id": contoso}, 422, "partner_suspended"),
        "partner id as text": ({"name": "Initech", "partner_id": str(northwind)}, 400, "invalid_input"),
        "partner id out of range": ({"name": "Initech", "partner_id": 2**40}, 400, "invalid_input"),
        "no partner": ({"name": "Initech"}, 400, "invalid_input"),
        "blank name": ({"name": "\t", "partner_id": northwind}, 400, "invalid_input"),
        "duplicate name": ({"name": "fabrikam ltd", "partner_id": northwind}, 409, "organisation_name_taken"),
    }

    def check(name, body, status, code):
        before = row_counts()
        assert_error(client.post(CUSTOMERS, json=body, headers=tokens["vendor_admin"]), status, code)
        assert row_counts() == before

    check_each([(name, *case) for name, case in cases.items()], check)


def test_a_customer_moved_to_another_partner_opens_its_next_case_there(app, client, tokens):
    from tests.case_helpers import new_case

    acme, contoso = org_id(app, "Acme Corp"), org_id(app, "Contoso Integrators")
    earlier = new_case(client, tokens["engineer"], serial_number="ACME-0002")
    answer = client.patch(f"{CUSTOMERS}/{acme}", json={"partner_id": contoso}, headers=tokens["vendor_admin"])
    assert answer.status_code == 200, answer.json
    assert answer.json["partner"]["name"] == "Contoso Integrators"
    assert audit_actions(app, "organisation", acme) == [("customer.updated", "vendor-admin@vendor.example")]
    # The new partner works the customer's serials; the old one no longer can open cases on them...
    assert new_case(client, tokens["contoso"], serial_number="ACME-0005")["partner"]["name"] == "Contoso Integrators"
    assert_error(client.post("/api/v1/cases", headers=tokens["engineer"], json={
        "serial_number": "ACME-0006", "software_version": "32.6.1.4", "severity": "S3", "title": "Fan alarm",
        "description": "x"}), 422, "serial_not_covered")
    # ...and keeps the case it worked before.
    assert client.get(f"/api/v1/cases/{earlier['id']}", headers=tokens["engineer"]).status_code == 200
    # The customer's own case goes to its new partner.
    assert new_case(client, tokens["customer"], serial_number="ACME-0007")["partner"]["name"] == "Contoso Integrators"


def test_bad_customer_changes_are_refused_and_change_nothing(app, client, tokens, row_counts):
    acme, fabrikam = org_id(app, "Acme Corp"), org_id(app, "Fabrikam Ltd")
    cases = {
        "a customer as its partner": ({"partner_id": fabrikam}, 422, "not_a_partner"),
        "no such partner": ({"partner_id": 424242}, 422, "not_a_partner"),
        "null partner": ({"partner_id": None}, 400, "invalid_input"),
        "another's name": ({"name": "Fabrikam Ltd"}, 409, "organisation_name_taken"),
        "name too long": ({"name": "a" * 201}, 400, "invalid_input"),
    }

    def check(name, body, status, code):
        before = row_counts()
        assert_error(client.patch(f"{CUSTOMERS}/{acme}", json=body, headers=tokens["vendor_admin"]), status, code)
        assert row_counts() == before

    check_each([(name, *case) for name, case in cases.items()], check)
    assert_error(client.patch(f"{CUSTOMERS}/{org_id(app, 'Northwind Networks')}", json={"name": "X"},
                              headers=tokens["vendor_admin"]), 404, "customer_not_found")


def test_a_customer_keeps_its_name_in_another_case_without_a_conflict(app, client, tokens):
    acme = org_id(app, "Acme Corp")
    answer = client.patch(f"{CUSTOMERS}/{acme}", json={"name": "ACME Corp"}, headers=tokens["vendor_admin"])
    assert answer.status_code == 200, answer.json
    assert answer.json["name"] == "ACME Corp"


def test_suspending_twice_or_reinstating_an_active_partner_is_a_conflict(app, client, tokens, row_counts):
    northwind = org_id(app, "Northwind Networks")
    suspended = client.post(f"{PARTNERS}/{northwind}/suspension", headers=tokens["vendor_admin"])
    assert suspended.status_code == 200 and suspended.json["suspended"] is True
    before = row_counts()
    assert_error(client.post(f"{PARTNERS}/{northwind}/suspension", headers=tokens["vendor_admin"]),
                 409, "partner_already_suspended")
    reinstated = client.delete(f"{PARTNERS}/{northwind}/suspension", headers=tokens["vendor_admin"])
    assert reinstated.status_code == 200 and reinstated.json["suspended_at"] is None
    assert_error(client.delete(f"{PARTNERS}/{northwind}/suspension", headers=tokens["vendor_admin"]),
                 409, "partner_not_suspended")
    assert row_counts()["audit_events"] == before["audit_events"] + 1
    assert [a for a, _ in audit_actions(app, "organisation", northwind)] == ["partner.suspended", "partner.reinstated"]
