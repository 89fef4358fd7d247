"""The case list's items are built by hand from plain rows (app/cases/api.py): each must be exactly what
CaseSummarySchema makes of the case, for every caller, filter and page."""
from __future__ import annotations

import json

import sqlalchemy as sa

from app.cases.models import Case
from app.cases.schemas import CaseSummarySchema
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
