"""The case list's items are built by hand from plain rows (app/cases/api.py): each must be exactly what
CaseSummarySchema makes of the case, for every caller, filter and page. So is the answer to opening a
case: exactly what CaseSchema makes of it."""
from __future__ import annotations

import json

import sqlalchemy as sa

from app.cases.models import Case
from app.cases.schemas import CaseSchema, CaseSummarySchema
from app.extensions import db
from tests.listing import every_item


def walk(client, headers, query: str = "", limit: int = 2) -> list[dict]:
    return every_item(client, headers, "/api/v1/cases", query, limit)


def test_list_items_are_the_case_summary_of_each_case(app, client, tokens, case_book):
    for caller in ("engineer", "customer", "contoso", "gtac"):
        for query in ("", "status=open", "severity=S1", "q=acme", "q=flap"):
            listed = walk(client, tokens[caller], query)
            ids = [item["id"] for item in listed]
            assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids), (caller, query)
            with app.app_context():
                for item in listed:
                    case = db.session.get(Case, item["id"])
                    assert item == json.loads(json.dumps(CaseSummarySchema().dump(case))), (caller, query)
    # Tenancy holds in the hand-built list as in the entities: Northwind's engineer sees no Fabrikam case.
    assert {item["customer"]["name"] for item in walk(client, tokens["engineer"])} <= {"Acme Corp",
                                                                                     "Globex Corporation"}


def test_an_updated_case_lists_its_new_time_and_state(app, client, tokens, case_book):
    newest = walk(client, tokens["engineer"], limit=1)[0]
    with app.app_context():
        db.session.execute(sa.update(Case).where(Case.id == newest["id"]).values(title="Renamed uplink case"))
        db.session.commit()
    again = walk(client, tokens["engineer"], limit=1)[0]
    assert again["title"] == "Renamed uplink case" and again["updated_at"] > newest["updated_at"]


def test_an_opened_case_is_answered_as_case_schema_renders_it(app, client, tokens):
    for caller, hardware, crash in (("engineer", True, False), ("customer", False, True)):
        answer = client.post("/api/v1/cases", headers=tokens[caller], json={
            "serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S1",
            "title": "Uplink flaps on core switch", "description": "Port 1:49 flaps.", "hardware_issue": hardware,
            "crash": crash})
        assert answer.status_code == 201, answer.json
        with app.app_context():
            case = db.session.get(Case, answer.json["id"])
            assert answer.json == json.loads(json.dumps(CaseSchema().dump(case))), caller
        assert (answer.json["hardware_issue"], answer.json["crash"]) == (hardware, crash)
        assert answer.json["escalated_at"] is None and answer.json["partner"]["name"] == "Northwind Networks"
