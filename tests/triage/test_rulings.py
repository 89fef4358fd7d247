"""Rulings on suggested anomalies (checklist item 5) and the upgrade advice they give."""
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases.models import Case
from app.errors import Forbidden, NotFound, RuleViolation
from app.extensions import db
from app.triage import services
from app.triage.models import Ruling
from tests.triage.helpers import open_case

MULTICAST = {"title": "Stack unit restarts when many multicast groups join",
             "description": "Slot 3 of the X465 stack reloads daily when IGMP snooping has thousands of groups."}


@pytest.fixture
def case_id(client, tokens):
    return open_case(client, tokens["engineer"], **MULTICAST)["id"]


def user(demo, name):
    return db.session.merge(demo[name])


def case(case_id):
    return db.session.get(Case, case_id)


def test_rulings_complete_only_once_every_suggestion_above_threshold_is_ruled(ctx, demo, case_id):
    needed = services.suggestions_needing_ruling(case(case_id))
    assert "EXOS-31207" in needed
    complete, reason = services.rulings_complete(case(case_id))
    assert not complete and "EXOS-31207" in reason

    first, *rest = needed
    services.record_rulings(user(demo, "engineer"), case_id, [{"anomaly_id": first, "ruling": "matches"}])
    if rest:
        assert services.rulings_complete(case(case_id))[0] is False
        services.record_rulings(user(demo, "engineer"), case_id,
                                [{"anomaly_id": code, "ruling": "not_relevant"} for code in rest])
    complete, reason = services.rulings_complete(case(case_id))
    assert complete and f"({len(needed)})" in reason


def test_a_case_with_nothing_to_rule_on_is_complete(client, tokens, ctx, demo):
    quiet = open_case(client, tokens["engineer"], title="Licence question",
                      description="How many licences come with the unit?")
    assert services.suggestions_needing_ruling(case(quiet["id"])) == []
    assert services.rulings_complete(case(quiet["id"])) == (
        True, "No known anomaly of this product and version matches confidently enough to need a ruling.")


def test_refuses_anomalies_that_are_not_suggested_and_writes_nothing(ctx, demo, case_id):
    for anomaly_id in ("EXOS-30512", "EXOS-99999", "VOSS-21033"):
        with pytest.raises(RuleViolation) as refused:
            services.record_rulings(user(demo, "engineer"), case_id,
                                    [{"anomaly_id": "EXOS-31207", "ruling": "matches"},
                                     {"anomaly_id": anomaly_id, "ruling": "not_relevant"}])
        assert refused.value.status == 422 and refused.value.code == "unknown_anomaly"
        assert refused.value.details == {"anomaly_ids": [anomaly_id]}
    with pytest.raises(RuleViolation) as refused:
        services.record_rulings(user(demo, "engineer"), case_id, [{"anomaly_id": "EXOS-31207", "ruling": "maybe"}])
    assert refused.value.code == "invalid_ruling"
    with pytest.raises(RuleViolation) as refused:
        services.record_rulings(user(demo, "engineer"), case_id, [{"anomaly_id": "EXOS-31207", "ruling": "matches"},
                                                                  {"anomaly_id": "EXOS-31207", "ruling": "not_relevant"}])
    assert refused.value.code == "duplicate_ruling"
    assert services.rulings_for(case_id) == []


def test_who_may_rule(ctx, demo, case_id):
    ruling = [{"anomaly_id": "EXOS-31207", "ruling": "matches"}]
    with pytest.raises(Forbidden):
        services.record_rulings(user(demo, "customer"), case_id, ruling)
    for stranger in ("contoso", "gtac", "programs"):
        with pytest.raises(NotFound):
            services.record_rulings(user(demo, stranger), case_id, ruling)
    services.record_rulings(user(demo, "admin"), case_id, ruling)
    assert [r.ruled_by.email for r in services.rulings_for(case_id)] == ["admin@northwind.example"]


def test_a_new_ruling_replaces_the_old_one_and_is_audited(ctx, demo, case_id):
    engineer = user(demo, "engineer")
    services.record_rulings(engineer, case_id, [{"anomaly_id": "EXOS-31207", "ruling": "not_relevant"}])
    services.record_rulings(engineer, case_id, [{"anomaly_id": "EXOS-31207", "ruling": "matches"}])
    rows = db.session.scalars(sa.select(Ruling).where(Ruling.case_id == case_id)).all()
    assert [(r.anomaly.code, r.ruling.value) for r in rows] == [("EXOS-31207", "matches")]
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_id == str(case_id), AuditEvent.action == "triage.ruled").order_by(AuditEvent.id)).all()
    assert [(e.before["ruling"], e.after["ruling"]) for e in events] == [(None, "not_relevant"),
                                                                          ("not_relevant", "matches")]


def test_matches_gives_upgrade_advice_on_the_case(client, tokens, demo, case_id):
    with client.application.app_context():
        services.record_rulings(user(demo, "engineer"), case_id, [{"anomaly_id": "EXOS-31207", "ruling": "matches"}])
        db.session.remove()
    body = client.get(f"/api/v1/cases/{case_id}/triage", headers=tokens["engineer"]).json
    assert body["advice"] == [{
        "anomaly_id": "EXOS-31207", "title": "Stack node reboots when the IGMP snooping group table is exhausted",
        "fixed_in": "32.6.2.1", "workaround": body["advice"][0]["workaround"],
        "message": "Upgrade to 32.6.2.1 or later, which fixes EXOS-31207."}]
    assert body["resolvable_without_escalation"] is True
    ruled = next(a for a in body["anomalies"] if a["anomaly_id"] == "EXOS-31207")
    assert ruled["ruling"]["ruling"] == "matches" and ruled["ruling"]["ruled_by"]["name"] == "Nadia Engineer"


def test_not_relevant_gives_no_advice(ctx, demo, case_id):
    services.record_rulings(user(demo, "engineer"), case_id, [{"anomaly_id": "EXOS-31207", "ruling": "not_relevant"}])
    assert services.upgrade_advice(case(case_id)) == []
    assert services.resolvable_without_escalation(case(case_id)) is False


def test_the_checklist_asks_triage_through_its_seam(app, client, tokens, case_id):
    saved = app.extensions["triage"]
    app.extensions["triage"] = services.TriageSeam()
    try:
        url = f"/api/v1/cases/{case_id}/checklist/release_notes_reviewed"
        attested = client.put(url, json={"value": True}, headers=tokens["engineer"])
        assert attested.status_code == 422 and attested.json["error"]["code"] == "rulings_required"
        foreign = client.put(url, json={"value": {"rulings": [{"anomaly_id": "VOSS-21033", "ruling": "matches"}]}},
                             headers=tokens["engineer"])
        assert foreign.status_code == 422 and foreign.json["error"]["code"] == "unknown_anomaly"
        checklist = client.get(f"/api/v1/cases/{case_id}/checklist", headers=tokens["engineer"]).json
        item = next(i for i in checklist["items"] if i["code"] == "release_notes_reviewed")
        assert item["met"] is False
    finally:
        app.extensions["triage"] = saved
