"""GET /api/v1/srs and /api/v1/srs/{sr}: tenancy, filters, keyset pages, urgency order (SPEC §10)."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest

from tests.srs.helpers import escalate, get_sr, make_sr, move


def numbers(answer) -> list[str]:
    assert answer.status_code == 200, answer.json
    return [item["sr_number"] for item in answer.json["items"]]


def test_gtac_sees_every_sr_a_partner_its_own_and_nobody_else_any(app, client, tokens):
    number = escalate(client, tokens)
    assert numbers(client.get("/api/v1/srs", headers=tokens["gtac"])) == [number]
    assert numbers(client.get("/api/v1/srs", headers=tokens["engineer"])) == [number]
    assert numbers(client.get("/api/v1/srs", headers=tokens["contoso"])) == []
    for who in ("customer", "programs", "vendor_admin"):
        assert client.get("/api/v1/srs", headers=tokens[who]).status_code == 403
    for who in ("contoso", "customer", "fabrikam", "programs", "vendor_admin"):
        for path in ("", "/history", "/events"):
            answer = client.get(f"/api/v1/srs/{number}{path}", headers=tokens[who])
            assert answer.status_code == 404, (who, path)
            assert answer.json["error"]["code"] == "sr_not_found"
    assert client.get(f"/api/v1/srs/{number}").status_code == 401


def test_one_sr_carries_its_clocks_and_what_the_caller_may_do(client, tokens, clock):
    number = escalate(client, tokens, severity="S2")
    detail = get_sr(client, tokens["engineer"], number)
    assert detail["status"] == "new" and detail["title"] == "Uplink flaps on core switch"
    assert detail["clocks"]["initial_response"]["state"] == "running"
    assert detail["clocks"]["initial_response"]["target_minutes"] == 240
    assert datetime.fromisoformat(detail["clocks"]["initial_response"]["due_at"]) == clock.now() + timedelta(hours=4)
    assert detail["clocks"]["update"]["target_minutes"] == 24 * 60
    assert detail["allowed_transitions"] == []  # the partner may not take an SR
    assert get_sr(client, tokens["gtac"], number)["allowed_transitions"] == ["assigned"]


def test_filters_and_keyset_pages(app, client, tokens):
    made = [make_sr(app, "new", severity="S3") for _ in range(3)]
    made += [make_sr(app, "in_progress", severity="S1", queue="S1-Critical-EMEA") for _ in range(2)]
    gtac = tokens["gtac"]
    assert numbers(client.get("/api/v1/srs?severity=S1", headers=gtac)) == made[3:][::-1]
    assert numbers(client.get("/api/v1/srs?queue=EXOS-EMEA&status=new", headers=gtac)) == made[:3][::-1]
    assert numbers(client.get("/api/v1/srs?status=closed", headers=gtac)) == []
    seen, cursor = [], None
    while True:
        answer = client.get("/api/v1/srs?limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=gtac)
        seen += numbers(answer)
        cursor = answer.json["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1]
    for bad in ("severity=S9", "status=open", "limit=0", "limit=101", "breached=maybe", "cursor=%%%", "sort=random"):
        answer = client.get(f"/api/v1/srs?{bad}", headers=gtac)
        assert answer.status_code == 400, bad
        assert answer.json["error"]["code"] in {"invalid_input", "invalid_cursor"}


@pytest.mark.parametrize("due", ["0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+00:00",
                                 "9999-12-31T23:59:59-01:00", "2026-11-23T08:00:00", 20261123])
def test_an_urgency_cursor_with_a_due_time_out_of_range_is_refused(app, client, tokens, due):
    make_sr(app, "new", severity="S1")
    raw = json.dumps({"u": [due, 1]}).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    answer = client.get(f"/api/v1/srs?sort=urgency&cursor={cursor}", headers=tokens["gtac"])
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_cursor"


def test_urgency_order_puts_the_earliest_due_first_and_paused_srs_last(app, client, tokens, clock):
    s4 = make_sr(app, "new", severity="S4")  # due in 48 h
    s1 = make_sr(app, "new", severity="S1")  # due in 1 h
    s2 = make_sr(app, "assigned", severity="S2")  # due in 4 h
    paused = make_sr(app, "in_progress", severity="S1")
    assert move(client, tokens["gtac"], paused, "awaiting_partner").status_code == 200
    closed = make_sr(app, "closed", severity="S1")
    gtac = tokens["gtac"]
    assert numbers(client.get("/api/v1/srs?sort=urgency", headers=gtac)) == [s1, s2, s4, paused]
    seen, cursor = [], None
    while True:
        answer = client.get("/api/v1/srs?sort=urgency&limit=1" + (f"&cursor={cursor}" if cursor else ""),
                            headers=gtac)
        seen += numbers(answer)
        cursor = answer.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [s1, s2, s4, paused]
    # A status filter lists closed ones too; a newest-first cursor is refused in urgency order.
    assert numbers(client.get("/api/v1/srs?sort=urgency&status=closed", headers=gtac)) == [closed]
    newest_cursor = client.get("/api/v1/srs?limit=1", headers=gtac).json["next_cursor"]
    assert client.get(f"/api/v1/srs?sort=urgency&cursor={newest_cursor}", headers=gtac).status_code == 400


def test_unknown_sr_is_404_for_everyone(client, tokens):
    for who in ("gtac", "engineer"):
        answer = client.get("/api/v1/srs/SR00000999", headers=tokens[who])
        assert answer.status_code == 404 and answer.json["error"]["code"] == "sr_not_found"



def test_every_filter_shape_lists_its_srs_in_either_order_for_gtac_and_the_partner(app, client, tokens, demo):
    """Each combination of filters lists exactly the SRs that match it, newest first and in urgency
    order read two at a time across both of its scans (due ones, then paused ones); urgency leaves out
    the closed ones unless a status is asked."""
    made = {}
    for status, severity, queue, assignee in [
        ("new", "S3", "EXOS-EMEA", None), ("assigned", "S1", "EXOS-EMEA", "gtac"),
        ("in_progress", "S3", "S1-Critical-EMEA", "manager"), ("awaiting_partner", "S1", "EXOS-EMEA", "gtac"),
        ("awaiting_partner", "S3", "S1-Critical-EMEA", "manager"), ("closed", "S1", "EXOS-EMEA", "gtac"),
        ("new", "S1", "S1-Critical-EMEA", None),
    ]:
        number = make_sr(app, status, severity=severity, queue=queue,
                         assignee_email=demo[assignee].email if assignee else None)
        made[number] = {"status": status, "severity": severity, "queue": queue,
                        "assignee_id": demo[assignee].id if assignee else None}
    gtac_id = demo["gtac"].id
    shapes = [{}, {"queue": "EXOS-EMEA"}, {"severity": "S1"}, {"status": "awaiting_partner"},
              {"status": "closed"}, {"assignee_id": gtac_id}, {"queue": "S1-Critical-EMEA", "severity": "S3"},
              {"queue": "EXOS-EMEA", "status": "awaiting_partner", "severity": "S1", "assignee_id": gtac_id},
              {"severity": "S1", "assignee_id": gtac_id}]
    for who in ("gtac", "engineer"):  # every SR made is Northwind's
        for shape in shapes:
            matching = {number for number, sr in made.items() if all(sr[key] == value for key, value in shape.items())}
            assert matching, shape
            query = "&".join(f"{name}={value}" for name, value in shape.items())
            assert set(numbers(client.get(f"/api/v1/srs?limit=100&{query}", headers=tokens[who]))) == matching
            seen, cursor = [], None
            while True:
                answer = client.get(f"/api/v1/srs?sort=urgency&limit=2&{query}" + (f"&cursor={cursor}" if cursor else ""),
                                    headers=tokens[who])
                seen += numbers(answer)
                cursor = answer.json["next_cursor"]
                if cursor is None:
                    break
            urgent = {number for number in matching if "status" in shape or made[number]["status"] != "closed"}
            assert len(seen) == len(set(seen)) and set(seen) == urgent, (who, shape, seen)
