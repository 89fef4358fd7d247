"""Resolving a case with a known fix instead of escalating, and reopening it when the fix did not help."""
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases.models import Message
from app.extensions import db
from app.triage.models import AppliedFix, KnownAnomaly
from tests.triage.helpers import mark_escalated, open_case

MULTICAST = {"title": "Stack unit restarts when many multicast groups join",
             "description": "Slot 3 of the X465 stack reloads daily when IGMP snooping has thousands of groups."}
ANOMALY = "EXOS-31207"  # fixed in 32.6.2.1; the case runs 32.6.1.4


@pytest.fixture
def case_id(client, tokens):
    return open_case(client, tokens["engineer"], **MULTICAST)["id"]


def rule(client, tokens, case_id, ruling, anomaly=ANOMALY):
    answer = client.put(f"/api/v1/cases/{case_id}/checklist/release_notes_reviewed",
                        json={"value": {"rulings": [{"anomaly_id": anomaly, "ruling": ruling}]}},
                        headers=tokens["engineer"])
    assert answer.status_code == 200, answer.json


def resolve(client, headers, case_id, **body):
    return client.post(f"/api/v1/cases/{case_id}/resolution", json={"anomaly_id": ANOMALY, **body}, headers=headers)


def customer_messages(client, tokens, case_id):
    answer = client.get(f"/api/v1/cases/{case_id}/messages", headers=tokens["customer"])
    return [m["body"] for m in answer.json]


def state(app, case_id):
    """What a refusal must leave untouched: the case status, its messages, applied fixes, audit events."""
    with app.app_context():
        row = db.session.execute(sa.text("SELECT status FROM cases WHERE id = :id"), {"id": case_id}).scalar_one()
        counts = [db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.case_id == case_id))
                  for model in (Message, AppliedFix)]
        audit = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.entity_id == str(case_id)))
        db.session.remove()
    return row, counts, audit


def test_a_matched_anomaly_with_a_fix_resolves_the_case_and_tells_the_customer(app, client, tokens, case_id):
    rule(client, tokens, case_id, "matches")
    triage = client.get(f"/api/v1/cases/{case_id}/triage", headers=tokens["engineer"]).json
    assert triage["resolvable_without_escalation"] is True and triage["applied_fixes"] == []

    answer = resolve(client, tokens["engineer"], case_id, note="Planned for Saturday's maintenance window.")
    assert answer.status_code == 201, answer.json
    assert answer.json["id"] == case_id and answer.json["status"] == "resolved"
    fix = answer.json["applied_fix"]
    assert (fix["anomaly_id"], fix["action"], fix["target_release"]) == (ANOMALY, "upgrade", "32.6.2.1")
    assert fix["resolved_by"]["name"] == "Nadia Engineer" and fix["reopened_at"] is None

    for who in ("engineer", "customer"):
        assert client.get(f"/api/v1/cases/{case_id}", headers=tokens[who]).json["status"] == "resolved"
    told = customer_messages(client, tokens, case_id)[-1]
    assert told.startswith("Resolved: upgrade to 32.6.2.1 or later. It fixes EXOS-31207")
    assert told.endswith("Planned for Saturday's maintenance window.")
    triage = client.get(f"/api/v1/cases/{case_id}/triage", headers=tokens["engineer"]).json
    assert [f["anomaly_id"] for f in triage["applied_fixes"]] == [ANOMALY]
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.entity_id == str(case_id), AuditEvent.action == "case.resolved_with_known_fix")).one()
        assert event.after == {"status": "resolved", "anomaly_id": ANOMALY, "action": "upgrade",
                               "target_release": "32.6.2.1"}

    # Once resolved, it can be neither resolved again nor escalated.
    again = resolve(client, tokens["engineer"], case_id)
    assert again.status_code == 409 and again.json["error"]["code"] == "case_not_open"
    escalation = client.post(f"/api/v1/cases/{case_id}/escalation", headers={**tokens["engineer"],
                                                                              "Idempotency-Key": "k-resolved"})
    assert escalation.status_code == 409 and escalation.json["error"]["code"] == "case_not_open"


def test_a_workaround_resolves_when_no_release_fixes_it(app, client, tokens, case_id):
    rule(client, tokens, case_id, "matches")
    with app.app_context():
        anomaly = db.session.scalars(sa.select(KnownAnomaly).filter_by(code=ANOMALY)).one()
        anomaly.fixed_in, anomaly.workaround = [], "Limit IGMP groups per VLAN to 2000."
        db.session.commit()
    answer = resolve(client, tokens["engineer"], case_id)
    assert answer.status_code == 201, answer.json
    assert (answer.json["applied_fix"]["action"], answer.json["applied_fix"]["target_release"]) == ("workaround", None)
    assert customer_messages(client, tokens, case_id)[-1].endswith(": Limit IGMP groups per VLAN to 2000.")


@pytest.mark.parametrize("setup, code", [
    ("no ruling", "anomaly_not_matched"),
    ("not relevant", "anomaly_not_matched"),
    ("no fix and no workaround", "no_known_fix"),
])
def test_refusals_say_why_and_change_nothing(app, client, tokens, case_id, setup, code):
    if setup == "not relevant":
        rule(client, tokens, case_id, "not_relevant")
    if setup == "no fix and no workaround":
        rule(client, tokens, case_id, "matches")
        with app.app_context():
            anomaly = db.session.scalars(sa.select(KnownAnomaly).filter_by(code=ANOMALY)).one()
            anomaly.fixed_in, anomaly.workaround = [], None
            db.session.commit()
    before = state(app, case_id)
    answer = resolve(client, tokens["engineer"], case_id)
    assert answer.status_code == 422 and answer.json["error"]["code"] == code
    assert answer.json["error"]["details"] == {"anomaly_id": ANOMALY}
    assert state(app, case_id) == before


@pytest.mark.parametrize("who, status", [("customer", 403), ("contoso", 404), ("gtac", 404), ("programs", 404),
                                          ("admin", 201)])
def test_who_may_resolve(app, client, tokens, case_id, who, status):
    rule(client, tokens, case_id, "matches")
    before = state(app, case_id)
    answer = resolve(client, tokens[who], case_id)
    assert answer.status_code == status, answer.json
    if status != 201:
        assert state(app, case_id) == before


def test_an_escalated_case_is_resolved_by_gtac_not_here(app, client, tokens, case_id):
    rule(client, tokens, case_id, "matches")
    mark_escalated(app, case_id)
    answer = resolve(client, tokens["engineer"], case_id)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "case_not_open"
    assert answer.json["error"]["details"] == {"status": "escalated"}


@pytest.mark.parametrize("body", [{}, {"anomaly_id": ""}, {"anomaly_id": 31207}, {"anomaly_id": ANOMALY, "x": 1},
                                  {"anomaly_id": ANOMALY, "note": "n" * 5001}])
def test_bad_input_is_a_400_and_changes_nothing(app, client, tokens, case_id, body):
    rule(client, tokens, case_id, "matches")
    before = state(app, case_id)
    answer = client.post(f"/api/v1/cases/{case_id}/resolution", json=body, headers=tokens["engineer"])
    assert answer.status_code == 400 and answer.json["error"]["code"]
    assert state(app, case_id) == before


def test_reopening_when_the_fix_did_not_help_keeps_the_history(app, client, tokens, case_id):
    rule(client, tokens, case_id, "matches")
    url = f"/api/v1/cases/{case_id}/reopening"
    not_resolved = client.post(url, json={"reason": "still failing"}, headers=tokens["engineer"])
    assert not_resolved.status_code == 409 and not_resolved.json["error"]["code"] == "case_not_resolved"
    assert resolve(client, tokens["engineer"], case_id).status_code == 201

    assert client.post(url, json={}, headers=tokens["engineer"]).status_code == 400
    assert client.post(url, json={"reason": "no"}, headers=tokens["customer"]).status_code == 403
    answer = client.post(url, json={"reason": "Still reloading on 32.6.2.1."}, headers=tokens["engineer"])
    assert answer.status_code == 200 and answer.json == {"id": case_id, "status": "open"}

    fixes = client.get(f"/api/v1/cases/{case_id}/triage", headers=tokens["engineer"]).json["applied_fixes"]
    assert len(fixes) == 1 and fixes[0]["reopen_reason"] == "Still reloading on 32.6.2.1."
    assert fixes[0]["reopened_at"] is not None
    # Open again: it may be resolved once more (or escalated).
    assert resolve(client, tokens["engineer"], case_id).status_code == 201
