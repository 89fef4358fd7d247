"""POST /api/v1/cases/{id}/escalation: every refusal reason at once, one SR, idempotent."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import jsonify

from app.cases.models import Case
from app.clock import FixedClock
from app.escalation.schemas import ServiceRequestSchema
from app.srs.models import ServiceRequest
from app.extensions import db
from app.outbox.models import OutboxEvent
from tests.case_helpers import complete_checklist, new_case
from tests.triage.helpers import attach_scanned_log


def escalate(client, headers, case_id, key=None, body=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/v1/cases/{case_id}/escalation", json=body or {}, headers={**headers, **extra})


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def reasons(answer) -> set[str]:
    return {r["code"] for r in answer.json["error"]["details"]["reasons"]}


def test_incomplete_case_is_refused_with_every_unmet_item_and_nothing_changes(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    answer = escalate(client, tokens["engineer"], case["id"])
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "escalation_refused"
    unmet = {r["item"] for r in answer.json["error"]["details"]["reasons"] if r["code"] == "checklist_item_unmet"}
    assert {"customer_informed", "scope_what", "logs_gathered", "release_notes_reviewed", "action_plan"} <= unmet
    assert "rma_ship_to" not in unmet  # not a hardware case
    assert count(app, ServiceRequest) == 0
    assert client.get(f"/api/v1/cases/{case['id']}", headers=tokens["engineer"]).json["status"] == "open"


def test_pw_partner_with_expired_certification_gets_all_reasons_at_once(app, client, tokens):
    case = new_case(client, tokens["contoso"], serial_number="FAB-0002", severity="S2")
    complete_checklist(client, tokens["contoso"], case["id"])
    answer = escalate(client, tokens["contoso"], case["id"])
    assert answer.status_code == 422
    assert reasons(answer) == {"partner_tier", "certification_expired"}
    expired = next(r for r in answer.json["error"]["details"]["reasons"] if r["code"] == "certification_expired")
    assert expired["product_family"] == "VOSS"


def test_pw_partner_may_escalate_s1_only_and_certification_extension_unblocks(app, client, tokens):
    case = new_case(client, tokens["contoso"], serial_number="FAB-0003", severity="S1")
    complete_checklist(client, tokens["contoso"], case["id"])
    assert reasons(escalate(client, tokens["contoso"], case["id"])) == {"certification_expired"}
    result = app.test_cli_runner().invoke(args=["certifications", "extend", "--days", "365", "--family", "VOSS"])
    assert result.exit_code == 0, result.output
    answer = escalate(client, tokens["contoso"], case["id"])
    assert answer.status_code == 201, answer.json


def test_families_match_in_any_case_for_certifications_and_their_extension(app, client, tokens):
    """A family keeps its vendor spelling (VOSS); a certification or a command may spell it otherwise."""
    case = new_case(client, tokens["contoso"], serial_number="FAB-0003", severity="S1")
    complete_checklist(client, tokens["contoso"], case["id"])
    with app.app_context():
        from app.accounts.models import Certification

        for certification in db.session.scalars(sa.select(Certification).filter_by(product_family="VOSS")):
            certification.product_family = "voss"
        db.session.commit()
    assert reasons(escalate(client, tokens["contoso"], case["id"])) == {"certification_expired"}
    result = app.test_cli_runner().invoke(args=["certifications", "extend", "--days", "365", "--family", "Voss"])
    assert result.exit_code == 0, result.output
    assert escalate(client, tokens["contoso"], case["id"]).status_code == 201


def test_uncovered_or_expired_contract_is_not_entitled(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    complete_checklist(client, tokens["engineer"], case["id"])
    with app.app_context():
        from app.contracts.models import ServiceContract

        contract = db.session.scalars(sa.select(ServiceContract).filter_by(number="PWP-ACME-2026")).one()
        contract.ends_on = datetime(2026, 2, 1).date()
        db.session.commit()
    assert reasons(escalate(client, tokens["engineer"], case["id"])) == {"not_entitled"}


def test_successful_escalation_opens_an_sr_routes_it_and_starts_the_clocks(app, client, tokens):
    case = new_case(client, tokens["engineer"], severity="S2")
    complete_checklist(client, tokens["engineer"], case["id"])
    at = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
    app.extensions["clock"] = FixedClock(at)
    try:
        answer = escalate(client, tokens["engineer"], case["id"], body={"note": "Please check PD4-123."})
    finally:
        from app.clock import SystemClock
        app.extensions["clock"] = SystemClock()
    assert answer.status_code == 201, answer.json
    sr = answer.json
    assert re.fullmatch(r"SR\d{8}", sr["sr_number"])
    assert (sr["status"], sr["queue"], sr["severity"]) == ("new", "EXOS-EMEA", "S2")
    assert datetime.fromisoformat(sr["response_due_at"]) == at + timedelta(hours=4)
    assert datetime.fromisoformat(sr["update_due_at"]) == at + timedelta(hours=24)

    detail = client.get(f"/api/v1/cases/{case['id']}", headers=tokens["engineer"]).json
    assert (detail["status"], detail["sr_number"]) == ("escalated", sr["sr_number"])
    # GTAC now sees the case and the partner's note, and the GTAC channel is open both ways.
    assert client.get(f"/api/v1/cases/{case['id']}", headers=tokens["gtac"]).status_code == 200
    thread = client.get(f"/api/v1/cases/{case['id']}/messages", headers=tokens["gtac"]).json
    assert [m["body"] for m in thread] == ["Please check PD4-123."]
    posted = client.post(f"/api/v1/cases/{case['id']}/messages", headers=tokens["gtac"],
                         json={"channel": "gtac", "body": "Looking at it."})
    assert posted.status_code == 201
    with app.app_context():
        topics = list(db.session.scalars(sa.select(OutboxEvent.topic)))
        from app.audit.services import trail
        actions = [e.action for e in trail("case", case["id"])]
    assert "notify.sr_created" in topics
    assert "case.escalated" in actions
    # The checklist is a record once the case has gone to GTAC.
    locked = client.put(f"/api/v1/cases/{case['id']}/checklist/action_plan", headers=tokens["engineer"],
                        json={"value": "changed my mind about the whole plan, sorry"})
    assert locked.status_code == 409


def test_s1_follows_the_sun(app, client, tokens):
    queues = []
    for hour in (3, 9, 17):
        case = new_case(client, tokens["engineer"], severity="S1")
        complete_checklist(client, tokens["engineer"], case["id"])
        app.extensions["clock"] = FixedClock(datetime(2026, 11, 24, hour, 0, tzinfo=timezone.utc))
        try:
            queues.append(escalate(client, tokens["engineer"], case["id"]).json["queue"])
        finally:
            from app.clock import SystemClock
            app.extensions["clock"] = SystemClock()
    assert queues == ["S1-Critical-APAC", "S1-Critical-EMEA", "S1-Critical-AMER"]


def test_sr_numbers_increase(client, tokens):
    numbers = []
    for _ in range(3):
        case = new_case(client, tokens["engineer"])
        complete_checklist(client, tokens["engineer"], case["id"])
        numbers.append(escalate(client, tokens["engineer"], case["id"]).json["sr_number"])
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


def escalated_twice(client, headers, key: str):
    """A ready case escalated twice with the same Idempotency-Key: (case, first answer, replay)."""
    case = new_case(client, headers)
    complete_checklist(client, headers, case["id"])
    first, again = (escalate(client, headers, case["id"], key=key) for _ in range(2))
    assert (first.status_code, again.status_code) == (201, 201)
    return case, first, again


def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(app, client, tokens):
    case, first, again = escalated_twice(client, tokens["engineer"], "retry-1")
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    other_body = escalate(client, tokens["engineer"], case["id"], key="retry-1", body={"note": "different"})
    assert other_body.status_code == 409 and other_body.json["error"]["code"] == "idempotency_key_reused"
    without_key = escalate(client, tokens["engineer"], case["id"])
    assert without_key.status_code == 409 and without_key.json["error"]["code"] == "already_escalated"
    assert without_key.json["error"]["details"]["sr_number"] == first.json["sr_number"]
    # Keys are the caller's own: another engineer's same key is a new request.
    other_user = escalate(client, tokens["admin"], case["id"], key="retry-1")
    assert other_user.status_code == 409 and other_user.json["error"]["code"] == "already_escalated"
    assert count(app, ServiceRequest) == 1


def test_the_answer_is_the_service_request_schema_of_the_sr_to_the_byte(app, client, tokens):
    case, first, again = escalated_twice(client, tokens["engineer"], "bytes-1")
    with app.app_context():
        sr = db.session.scalars(sa.select(ServiceRequest).where(ServiceRequest.case_id == case["id"])).one()
        rendered = jsonify(ServiceRequestSchema().dump({
            "id": sr.id, "sr_number": sr.number, "case_id": sr.case_id, "status": sr.status.value,
            "severity": sr.severity.value, "queue": sr.queue, "product_family": sr.product_family,
            "region": sr.region, "created_at": sr.created_at.isoformat(),
            "response_due_at": sr.response_due_at.isoformat(), "update_due_at": sr.update_due_at.isoformat(),
        })).get_data()
    assert first.get_data() == rendered and again.get_data() == rendered
    assert set(first.json) == set(ServiceRequestSchema().fields)


def test_a_scanned_log_that_brings_a_known_anomaly_asks_for_its_ruling_first(app, client, tokens, demo):
    case = new_case(client, tokens["engineer"])
    complete_checklist(client, tokens["engineer"], case["id"])
    attach_scanned_log(app, case["id"], demo["engineer"].id)

    def rulings_reason():
        refused = escalate(client, tokens["engineer"], case["id"])
        assert refused.status_code == 422, refused.json
        return next((r for r in refused.json["error"]["details"]["reasons"]
                     if r["code"] == "checklist_item_unmet" and r["reason"] == "rulings_missing"), None)

    missing = rulings_reason()  # the log's crash asks for more answers too; the rulings are this test's
    assert missing is not None and "(EXOS-31207" in missing["message"]
    codes = missing["message"].split("(", 1)[1].split(" still open")[0].split(", ")
    ruled = client.put(f"/api/v1/cases/{case['id']}/checklist/{missing['item']}", headers=tokens["engineer"],
                       json={"value": {"rulings": [{"anomaly_id": code, "ruling": "not_relevant"} for code in codes]}})
    assert ruled.status_code == 200, ruled.json
    assert rulings_reason() is None


def test_bad_idempotency_key_and_roles(client, tokens):
    case = new_case(client, tokens["engineer"])
    assert escalate(client, tokens["engineer"], case["id"], key="x" * 256).status_code == 400
    assert escalate(client, tokens["customer"], case["id"]).status_code == 403
    assert escalate(client, tokens["gtac"], case["id"]).status_code == 404
    assert escalate(client, tokens["contoso"], case["id"]).status_code == 404
    assert escalate(client, tokens["programs"], case["id"]).status_code == 404


def test_refused_escalation_writes_nothing(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))
    escalate(client, tokens["engineer"], case["id"], key="k1")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)) == before
        assert db.session.get(Case, case["id"]).escalated_at is None
