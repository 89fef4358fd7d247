from tests.conftest import basic

NEW_CASE = {"serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S2",
            "title": "Port flaps on uplink", "description": "Uplink 1:49 flaps every few minutes."}


def test_token_then_me(client, demo):
    answer = client.post("/api/v1/tokens", headers=basic("engineer@northwind.example"))
    assert answer.status_code == 201
    token = answer.json["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["role"] == "partner_engineer"
    assert me.json["organisation"]["name"] == "Northwind Networks"


def test_engineer_opens_case_and_customer_sees_it(client, tokens):
    opened = client.post("/api/v1/cases", json=NEW_CASE, headers=tokens["engineer"])
    assert opened.status_code == 201, opened.json
    assert opened.json["customer"]["name"] == "Acme Corp"
    assert opened.json["product"]["family"] == "EXOS"
    listed = client.get("/api/v1/cases", headers=tokens["customer"])
    assert opened.json["id"] in [c["id"] for c in listed.json["items"]]
    other = client.get(f"/api/v1/cases/{opened.json['id']}", headers=tokens["fabrikam"])
    assert other.status_code == 404
    assert other.json["error"]["code"] == "case_not_found"
