"""The audit trail: a change that changes nothing is not recorded, and the trail reads as sentences."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.audit.reading import readable_trail
from app.audit.services import record
from app.cases.services import change_severity
from app.extensions import db
from app.uow import unit_of_work
from tests.case_helpers import new_case


def case_events(app, case_id: int) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.entity_type == "case", AuditEvent.entity_id == str(case_id)).order_by(AuditEvent.id)))


def answer(client, headers, case_id, code, body):
    reply = client.put(f"/api/v1/cases/{case_id}/checklist/{code}", json=body, headers=headers)
    assert reply.status_code == 200, reply.json
    return reply


def test_a_change_to_the_same_value_is_not_recorded(app, demo):
    with app.app_context(), unit_of_work():
        assert record(None, "product", 1, "product.updated", before={"name": "X465"}, after={"name": "X465"}) is None
        assert record(None, "product", 1, "product.updated", before={"name": "X465"}, after={"name": "X470"})
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "product")).all()
    assert [(e.before, e.after) for e in events] == [({"name": "X465"}, {"name": "X470"})]


def test_saving_a_checklist_answer_again_unchanged_adds_no_event(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    text = "Swapped optics and cable, moved the uplink to 1:50: the flap follows the port."
    answer(client, tokens["engineer"], case["id"], "problem_isolation", {"value": text})
    first = len(case_events(app, case["id"]))
    answer(client, tokens["engineer"], case["id"], "problem_isolation", {"value": text})
    assert len(case_events(app, case["id"])) == first
    answer(client, tokens["engineer"], case["id"], "problem_isolation", {"value": text + " Still flapping."})
    assert len(case_events(app, case["id"])) == first + 1


def test_the_trail_reads_as_sentences_with_labels_and_formatted_values(app, client, tokens):
    case = new_case(client, tokens["engineer"], severity="S3")
    answer(client, tokens["engineer"], case["id"], "customer_informed", {"value": True})
    answer(client, tokens["engineer"], case["id"], "specifications_checked",
           {"not_applicable": True, "reason": "No specification covers this uplink."})
    answer(client, tokens["engineer"], case["id"], "problem_duplicated", {"value": "yes"})
    with app.app_context():
        engineer = db.session.scalars(sa.select(User).filter_by(email="engineer@northwind.example")).one()
        change_severity(engineer, case["id"], "S2")
    with app.app_context(), unit_of_work():
        lines = readable_trail("case", case["id"], {"customer_informed": "Customer told",
                                                  "problem_duplicated": "Problem duplicated"})
    sentences = [line.action for line in lines]
    assert "Nadia Engineer changed the severity from S3 to S2." in sentences
    assert sentences[0] == "Nadia Engineer opened the case at severity S3 on serial ACME-0003."
    assert "Nadia Engineer answered “Customer told”: yes." in sentences
    assert "Nadia Engineer answered “Problem duplicated”: yes." in sentences
    assert any(s.startswith("Nadia Engineer marked “specifications checked” as not applying") for s in sentences)
    shown = " ".join(sentences + [f"{c.label} {c.before or ''} {c.after}" for line in lines for c in line.changes])
    for python in ("None", "True", "False", "{", "[", "'"):
        assert python not in shown, (python, shown)
    assert not re.search(r"\b[a-z]+\.[a-z_]+\b", " ".join(sentences)), sentences  # no event codes
    for line in lines:
        assert all(change.before != change.after for change in line.changes), line
