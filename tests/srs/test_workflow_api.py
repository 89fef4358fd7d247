"""POST /api/v1/srs/{sr}/transitions: every transition from every state, for every role (SPEC §6).

The expected answers come from the table below, written from SPEC §6 and §2,
not from the application's own move table.
"""
from __future__ import annotations

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.audit.models import AuditEvent
from app.extensions import db
from app.outbox.models import OutboxEvent
from tests.srs.helpers import get_sr, make_sr, move

STATES = ["new", "assigned", "in_progress", "awaiting_partner", "solution_provided", "closed"]
GTAC = {"gtac", "manager"}
PARTNER = {"engineer", "admin"}
# (from, to) -> who may make it.
LEGAL = {
    ("new", "assigned"): GTAC,  # take
    ("assigned", "in_progress"): GTAC,
    ("in_progress", "awaiting_partner"): GTAC,
    ("awaiting_partner", "in_progress"): GTAC | PARTNER,  # the partner has answered
    ("in_progress", "solution_provided"): GTAC,
    ("solution_provided", "closed"): GTAC | PARTNER,  # the partner accepts the solution
    ("solution_provided", "in_progress"): PARTNER,  # reopen
    ("closed", "in_progress"): PARTNER,  # reopen
}
# Roles that cannot see Northwind's SRs at all: another partner, customers, the programmes team.
BLIND = {"contoso", "customer", "fabrikam", "programs"}
ROLES = sorted(GTAC | PARTNER | BLIND)
SOLUTION = {"kind": "workaround", "content": "Disable IGMP snooping on VLAN 20 until 32.7.1."}


def expected(source: str, target: str, who: str) -> int:
    if who in BLIND:
        return 404
    if (source, target) not in LEGAL:
        return 409
    return 200 if who in LEGAL[(source, target)] else 403


def body_for(target: str) -> dict:
    return {"solution": SOLUTION} if target == "solution_provided" else {}


def test_every_transition_from_every_state_for_every_role(app, client, tokens):
    wrong = []
    for source in STATES:
        for target in STATES:
            for who in ROLES:
                number = make_sr(app, source)
                answer = move(client, tokens[who], number, target, note="sweep", **body_for(target))
                want = expected(source, target, who)
                status_after = get_sr(client, tokens["manager"], number)["status"]
                if answer.status_code != want or status_after != (target if want == 200 else source):
                    wrong.append((source, target, who, want, answer.status_code, status_after))
                if want == 409:
                    assert answer.json["error"]["code"] == "illegal_transition"
    assert wrong == [], f"(from, to, who, expected, got, status after): {wrong}"


def test_gtac_engineer_works_only_srs_assigned_to_them_and_a_manager_any(app, client, tokens):
    number = make_sr(app, "assigned", assignee_email="manager@vendor.example")
    refused = move(client, tokens["gtac"], number, "in_progress")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "not_assignee"
    mine = make_sr(app, "assigned", assignee_email="gtac@vendor.example")
    assert move(client, tokens["manager"], mine, "in_progress").status_code == 200


def test_take_assigns_the_taker_and_only_a_manager_assigns_someone_else(app, client, tokens, demo):
    number = make_sr(app, "new")
    grace = demo["gtac"].id
    max_ = demo["manager"].id
    assert move(client, tokens["gtac"], number, "assigned", assignee_id=max_).status_code == 403
    taken = move(client, tokens["manager"], number, "assigned", assignee_id=grace)
    assert taken.status_code == 200 and taken.json["assignee"]["id"] == grace
    other = make_sr(app, "new")
    taken = move(client, tokens["gtac"], other, "assigned")
    assert taken.json["assignee"]["name"] == "Grace GTAC"
    # Only GTAC staff can be given an SR.
    third = make_sr(app, "new")
    refused = move(client, tokens["manager"], third, "assigned", assignee_id=demo["engineer"].id)
    assert refused.status_code == 422 and refused.json["error"]["code"] == "not_gtac_staff"


def test_reassignment_by_a_manager_keeps_the_state(app, client, tokens, demo):
    number = make_sr(app, "in_progress")
    url = f"/api/v1/srs/{number}/assignment"
    assert client.post(url, json={"assignee_id": demo["manager"].id}, headers=tokens["gtac"]).status_code == 403
    moved = client.post(url, json={"assignee_id": demo["manager"].id, "note": "Grace is off shift"},
                        headers=tokens["manager"])
    assert moved.status_code == 200
    assert (moved.json["status"], moved.json["assignee"]["id"]) == ("in_progress", demo["manager"].id)
    # The previous assignee may no longer move it.
    assert move(client, tokens["gtac"], number, "awaiting_partner").status_code == 403
    closed = make_sr(app, "closed")
    refused = client.post(f"/api/v1/srs/{closed}/assignment", json={"assignee_id": demo["gtac"].id},
                          headers=tokens["manager"])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "sr_not_open"


def test_a_solution_records_its_kind_and_content(app, client, tokens):
    number = make_sr(app, "in_progress")
    missing = move(client, tokens["gtac"], number, "solution_provided")
    assert missing.status_code == 400 and "solution" in missing.json["error"]["details"]["fields"]
    bad_kind = move(client, tokens["gtac"], number, "solution_provided",
                    solution={"kind": "prayer", "content": "x"})
    assert bad_kind.status_code == 400
    misplaced = move(client, tokens["gtac"], number, "awaiting_partner", solution=SOLUTION)
    assert misplaced.status_code == 400
    done = move(client, tokens["gtac"], number, "solution_provided",
                solution={"kind": "patch", "content": "Apply patch 32.6.1.4-patch1-12."})
    assert done.status_code == 200, done.json
    assert [(s["kind"], s["content"]) for s in done.json["solutions"]] == [
        ("patch", "Apply patch 32.6.1.4-patch1-12.")]
    assert done.json["solutions"][0]["provided_by"]["name"] == "Grace GTAC"
    # An RMA solution needs an approved RMA first.
    other = make_sr(app, "in_progress")
    rma = move(client, tokens["gtac"], other, "solution_provided", solution={"kind": "rma", "content": "Replace"})
    assert rma.status_code == 422 and rma.json["error"]["code"] == "rma_not_approved"


def test_reopen_only_within_the_window(app, client, tokens, clock):
    number = make_sr(app, "solution_provided")
    window = app.config["SR_REOPEN_WINDOW_HOURS"]
    clock.advance(hours=window - 1)
    reopened = move(client, tokens["engineer"], number, "in_progress", note="Still flapping after the patch.")
    assert reopened.status_code == 200 and reopened.json["reopen_count"] == 1
    late = make_sr(app, "closed")
    clock.advance(hours=window, seconds=1)
    refused = move(client, tokens["admin"], late, "in_progress")
    assert refused.status_code == 422 and refused.json["error"]["code"] == "reopen_window_passed"
    assert get_sr(client, tokens["admin"], late)["status"] == "closed"


def test_each_move_is_audited_and_announced(app, client, tokens):
    number = make_sr(app, "assigned")
    assert move(client, tokens["gtac"], number, "in_progress", note="Looking at the logs").status_code == 200
    with app.app_context():
        audit = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "service_request")).all()
        topics = db.session.scalars(sa.select(OutboxEvent.topic)).all()
    assert [(a.action, a.before["status"], a.after["status"]) for a in audit] == [
        ("sr.start", "assigned", "in_progress")]
    assert audit[0].actor.email == "gtac@vendor.example"
    assert "notify.sr_event" in topics
    timeline = client.get(f"/api/v1/srs/{number}/history", headers=tokens["engineer"]).json
    assert [(e["kind"], e["move"], e["from"], e["to"], e["note"], e["actor"]) for e in timeline] == [
        ("opened", None, None, "assigned", None, "Nadia Engineer"),
        ("status", "start", "assigned", "in_progress", "Looking at the logs", "Grace GTAC")]


def test_bad_bodies_are_400_and_change_nothing(app, client, tokens):
    number = make_sr(app, "new")
    for body in ({}, {"to": "flying"}, {"to": 3}, {"to": "assigned", "assignee_id": "x"}, {"to": "assigned", "note": 5}):
        answer = client.post(f"/api/v1/srs/{number}/transitions", json=body, headers=tokens["gtac"])
        assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_input", body
    raw = client.post(f"/api/v1/srs/{number}/transitions", data="{not json", headers={
        **tokens["gtac"], "Content-Type": "application/json"})
    assert raw.status_code == 400
    assert client.post("/api/v1/srs/SR99999999/transitions", json={"to": "assigned"},
                       headers=tokens["gtac"]).status_code == 404
    assert get_sr(client, tokens["gtac"], number)["status"] == "new"


ASSIGNEE_ONLY = {("assigned", "in_progress"), ("in_progress", "awaiting_partner"), ("awaiting_partner", "in_progress"),
                 ("in_progress", "solution_provided"), ("solution_provided", "closed")}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(STATES), st.sampled_from(ROLES)), min_size=1, max_size=14))
def test_random_walks_follow_the_table(app, client, tokens, steps):
    """Any sequence of attempts by any roles: each answer and the resulting state match SPEC §6,
    where a GTAC engineer works only the SRs assigned to them (whoever took it is the assignee)."""
    number = make_sr(app, "new")
    state, assignee = "new", None
    for target, who in steps:
        answer = move(client, tokens[who], number, target, **body_for(target))
        want = expected(state, target, who)
        if want == 200 and who == "gtac" and (state, target) in ASSIGNEE_ONLY and assignee != "gtac":
            want = 403
        assert answer.status_code == want, (state, target, who, assignee, answer.json)
        if want == 200:
            if state == "new":
                assignee = who
            state = target
        assert get_sr(client, tokens["gtac"], number)["status"] == state
