"""/api/v1/contracts: one contract at a time, held to the same rules as an import."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import Organisation
from app.audit.models import AuditEvent
from app.extensions import db


@pytest.fixture
def customer_ids(app, demo):
    with app.app_context():
        return dict(db.session.execute(sa.select(Organisation.name, Organisation.id)).all())


@pytest.fixture
def contract(client, vendor_admin, customer_ids):
    answer = client.post("/api/v1/contracts", headers=vendor_admin, json={
        "number": "PWP-GLOBEX-2027", "level": "PWP", "customer_id": customer_ids["Acme Corp"],
        "starts_on": "2027-01-01", "ends_on": "2027-12-31"})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_a_contract_is_created_with_no_serials_and_audited(app, client, vendor_admin, contract):
    assert contract["number"] == "PWP-GLOBEX-2027" and contract["serials"] == []
    assert contract["customer"]["name"] == "Acme Corp" and contract["level"] == "PWP"
    found = client.get("/api/v1/contracts", headers=vendor_admin, query_string={"number": "PWP-GLOBEX-2027"})
    assert [c["id"] for c in found.get_json()["items"]] == [contract["id"]]
    with app.app_context():
        assert db.session.scalars(sa.select(AuditEvent.action).filter_by(
            entity_type="service_contract", entity_id=str(contract["id"]))).all() == ["created"]


REFUSED = {
    "end before start": ({"starts_on": "2027-12-31", "ends_on": "2027-01-01"}, 400, "ends_before_start"),
    "unknown level": ({"level": "GOLD"}, 400, "invalid_input"),
    "a partner as customer": ({"customer": "Northwind Networks"}, 422, "unknown_customer"),
    "number taken": ({"number": "PWP-ACME-2026"}, 409, "contract_exists"),
    "blank number": ({"number": "   "}, 400, "invalid_number"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_contract_changes_nothing(client, vendor_admin, customer_ids, rows, case):
    change, status, code = REFUSED[case]
    body = {"number": "PW-NEW-1", "level": "PW", "customer_id": customer_ids["Acme Corp"],
            "starts_on": "2027-01-01", "ends_on": "2027-12-31", **change}
    if "customer" in body:
        body["customer_id"] = customer_ids[body.pop("customer")]
    before = rows()
    answer = client.post("/api/v1/contracts", headers=vendor_admin, json=body)
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, code)
    assert rows() == before


def test_serials_are_added_and_removed(client, vendor_admin, contract):
    url = f"/api/v1/contracts/{contract['id']}/serials"
    added = client.post(url, headers=vendor_admin, json={"serial_number": "ACME-0001", "product_model": "X465-48T"})
    # ACME-0001 is on Acme's other contract too: the same customer may hold it twice.
    assert added.status_code == 201
    assert added.get_json() == {"serial_number": "ACME-0001", "product_model": "X465-48T", "product_family": "EXOS"}
    again = client.post(url, headers=vendor_admin, json={"serial_number": "ACME-0001", "product_model": "X465-48T"})
    assert again.get_json()["error"]["code"] == "serial_exists"
    assert client.delete(f"{url}/ACME-0001", headers=vendor_admin).status_code == 204
    assert client.get(f"/api/v1/contracts/{contract['id']}", headers=vendor_admin).get_json()["serials"] == []
    gone = client.delete(f"{url}/ACME-0001", headers=vendor_admin)
    assert (gone.status_code, gone.get_json()["error"]["code"]) == (404, "serial_not_found")


def test_a_serial_of_another_customers_active_contract_is_refused(client, vendor_admin, contract, rows):
    before = rows()
    answer = client.post(f"/api/v1/contracts/{contract['id']}/serials", headers=vendor_admin,
                         json={"serial_number": "FAB-0001", "product_model": "VSP4900-48P"})
    assert answer.status_code == 422
    assert answer.get_json()["error"] == {
        "request_id": answer.headers["X-Request-ID"], "code": "serial_on_two_customers", "details": {"serial_number": "FAB-0001"},
        "message": "Serial FAB-0001 is already on contract PW-FAB-2026 of another customer for overlapping "
                   "dates (2026-01-01 to 2030-12-31)."}
    assert rows() == before


def test_an_unknown_product_model_is_refused(client, vendor_admin, contract):
    answer = client.post(f"/api/v1/contracts/{contract['id']}/serials", headers=vendor_admin,
                         json={"serial_number": "NEW-1", "product_model": "X9999"})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["message"] == "Unknown product model 'X9999'."


def test_changing_a_contract_may_not_put_its_serial_on_two_customers(client, vendor_admin, contract,
                                                                     customer_ids, rows):
    url = f"/api/v1/contracts/{contract['id']}"
    client.post(f"{url}/serials", headers=vendor_admin, json={"serial_number": "ACME-0001", "product_model": "X465-48T"})
    before = rows()
    moved = client.patch(url, headers=vendor_admin, json={"customer_id": customer_ids["Fabrikam Ltd"]})
    assert (moved.status_code, moved.get_json()["error"]["code"]) == (422, "serial_on_two_customers")
    assert rows() == before
    longer = client.patch(url, headers=vendor_admin, json={"ends_on": "2028-12-31", "level": "PW"})
    assert longer.status_code == 200
    assert (longer.get_json()["ends_on"], longer.get_json()["level"]) == ("2028-12-31", "PW")
    backwards = client.patch(url, headers=vendor_admin, json={"starts_on": "2029-01-01"})
    assert backwards.get_json()["error"]["code"] == "ends_before_start"


def test_an_unknown_contract_is_404(client, vendor_admin, demo):
    answer = client.get("/api/v1/contracts/999999", headers=vendor_admin)
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (404, "contract_not_found")
