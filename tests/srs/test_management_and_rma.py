"""Management escalation (levels 1-3) and RMAs of hardware SRs."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from app.extensions import db
from app.rma.models import RMA
from tests.srs.helpers import escalate, get_sr, make_sr, move

ITEM = {"serial_number": "ACME-0003", "failure_description": "Port 1:49 fails link negotiation."}
SHIP_TO = "Acme Corp, Dock 4, 1 Main Street, Springfield, +1 555 0100"


def test_partner_escalates_to_management_and_the_duty_manager_hears_of_it(app, client, tokens, caplog):
    number = make_sr(app, "in_progress")
    url = f"/api/v1/srs/{number}/management-escalations"
    with caplog.at_level(logging.INFO, logger="app.notifications.mail"):
        raised = client.post(url, json={"level": 2, "reason": "Customer's CIO is asking daily."},
                             headers=tokens["engineer"])
    assert raised.status_code == 201, raised.json
    assert raised.json["level"] == 2 and raised.json["requested_by"]["name"] == "Nadia Engineer"
    mails = [r.getMessage() for r in caplog.records if "management escalation level 2" in r.getMessage()]
    assert mails and "manager@vendor.example" in mails[0]
    detail = get_sr(client, tokens["manager"], number)
    assert detail["management_level"] == 2
    assert [(e["level"], e["reason"]) for e in detail["management_escalations"]] == [
        (2, "Customer's CIO is asking daily.")]
    listed = client.get("/api/v1/srs", headers=tokens["manager"]).json["items"]
    assert listed[0]["management_level"] == 2
    # Only upwards, only partners, only open SRs, levels 1 to 3 with a reason.
    again = client.post(url, json={"level": 2, "reason": "Still waiting for news."}, headers=tokens["admin"])
    assert again.status_code == 409 and again.json["error"]["code"] == "already_at_level"
    assert client.post(url, json={"level": 3, "reason": "GTAC asking itself."},
                       headers=tokens["gtac"]).status_code == 403
    for body in ({"level": 4, "reason": "way too high level"}, {"level": 3}, {"level": 3, "reason": "short"}):
        assert client.post(url, json=body, headers=tokens["engineer"]).status_code == 400
    assert client.post(url, json={"level": 3, "reason": "Other partner."},
                       headers=tokens["contoso"]).status_code == 404
    closed = make_sr(app, "closed")
    refused = client.post(f"/api/v1/srs/{closed}/management-escalations",
                          json={"level": 1, "reason": "Too late for this one."}, headers=tokens["engineer"])
    assert refused.status_code == 409


def test_rma_lifecycle_is_followed_by_the_partner_and_never_approved_automatically(app, client, tokens):
    number = escalate(client, tokens, hardware_issue=True)
    requested = client.post(f"/api/v1/srs/{number}/rmas", headers=tokens["engineer"], json={
        "ship_to": SHIP_TO, "items": [ITEM, {"serial_number": "ACME-0004",
                                              "failure_description": "PSU 2 dead after the storm."}]})
    assert requested.status_code == 201, requested.json
    rma = requested.json
    assert rma["rma_number"].startswith("RMA") and len(rma["rma_number"]) == 11
    assert rma["status"] == "requested" and [i["serial_number"] for i in rma["items"]] == ["ACME-0003", "ACME-0004"]
    # Nothing approves it but GTAC: a periodic pass leaves it requested.
    assert app.test_cli_runner().invoke(args=["srs", "watch", "--once"]).exit_code == 0
    url = f"/api/v1/rmas/{rma['rma_number']}"
    assert client.get(url, headers=tokens["engineer"]).json["status"] == "requested"
    assert client.post(f"{url}/transitions", json={"to": "approved"}, headers=tokens["engineer"]).status_code == 403
    assert client.post(f"{url}/transitions", json={"to": "shipped", "tracking": "1Z"},
                       headers=tokens["gtac"]).status_code == 409
    approved = client.post(f"{url}/transitions", json={"to": "approved", "note": "Replacement from Dublin"},
                           headers=tokens["gtac"])
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    no_tracking = client.post(f"{url}/transitions", json={"to": "shipped"}, headers=tokens["gtac"])
    assert no_tracking.status_code == 422 and no_tracking.json["error"]["code"] == "tracking_required"
    assert client.post(f"{url}/transitions", json={"to": "shipped", "tracking": "1Z999AA10123456784"},
                       headers=tokens["gtac"]).json["status"] == "shipped"
    received = client.post(f"{url}/transitions", json={"to": "received"}, headers=tokens["engineer"])
    assert received.status_code == 200 and received.json["received_at"]
    # The SR shows its RMA, and an RMA solution can now be given.
    assert get_sr(client, tokens["engineer"], number)["rmas"] == [{"rma_number": rma["rma_number"],
                                                                   "status": "received"}]
    gtac = tokens["gtac"]
    assert move(client, gtac, number, "assigned").status_code == 200
    assert move(client, gtac, number, "in_progress").status_code == 200
    solved = move(client, gtac, number, "solution_provided", solution={"kind": "rma", "content": "Replaced."})
    assert solved.status_code == 200, solved.json
    assert solved.json["solutions"][0]["rma_number"] == rma["rma_number"]
    timeline = client.get(f"/api/v1/srs/{number}/history", headers=tokens["engineer"]).json
    assert [e["data"]["status"] for e in timeline if e["kind"] == "rma"] == [
        "requested", "approved", "shipped", "received"]
    for who in ("customer", "contoso", "programs", "vendor_admin"):
        assert client.get(url, headers=tokens[who]).status_code == 404


def test_uncovered_serials_are_refused_each_with_its_reason(app, client, tokens):
    number = escalate(client, tokens, hardware_issue=True)
    answer = client.post(f"/api/v1/srs/{number}/rmas", headers=tokens["engineer"], json={
        "ship_to": SHIP_TO, "items": [ITEM, {"serial_number": "FAB-0001", "failure_description": "Not ours at all."},
                                      {"serial_number": "NOPE-1", "failure_description": "Unknown serial."}]})
    assert answer.status_code == 422 and answer.json["error"]["code"] == "serials_not_covered"
    refused = {s["serial_number"]: s["reason"] for s in answer.json["error"]["details"]["serials"]}
    assert set(refused) == {"FAB-0001", "NOPE-1"} and "Acme Corp" in refused["FAB-0001"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RMA)) == 0


def test_a_product_already_on_an_rma_under_way_is_not_asked_for_again(app, client, tokens):
    number = escalate(client, tokens, hardware_issue=True)
    url = f"/api/v1/srs/{number}/rmas"
    first = client.post(url, headers=tokens["engineer"], json={"ship_to": SHIP_TO, "items": [ITEM]})
    assert first.status_code == 201, first.json
    again = client.post(url, headers=tokens["engineer"], json={"ship_to": SHIP_TO, "items": [ITEM]})
    assert again.status_code == 409 and again.json["error"]["code"] == "serials_on_open_rma"
    assert again.json["error"]["details"]["serials"] == [
        {"serial_number": ITEM["serial_number"], "reason": f"Already on {first.json['rma_number']}, requested."}]
    # Once GTAC has turned that one down (or it came back), the product may be asked for again.
    rejected = client.post(f"/api/v1/rmas/{first.json['rma_number']}/transitions",
                           json={"to": "rejected", "note": "Send the logs first"}, headers=tokens["gtac"])
    assert rejected.status_code == 200, rejected.json
    assert client.post(url, headers=tokens["engineer"], json={"ship_to": SHIP_TO, "items": [ITEM]}).status_code == 201
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RMA)) == 2


def test_rma_request_rules(app, client, tokens):
    software = escalate(client, tokens)
    answer = client.post(f"/api/v1/srs/{software}/rmas", headers=tokens["engineer"],
                         json={"ship_to": SHIP_TO, "items": [ITEM]})
    assert answer.status_code == 422 and answer.json["error"]["code"] == "not_hardware_sr"
    hardware = escalate(client, tokens, hardware_issue=True)
    url = f"/api/v1/srs/{hardware}/rmas"
    six = [{"serial_number": f"ACME-{n:04d}", "failure_description": "Dead on arrival here."} for n in range(1, 7)]
    for body in ({"ship_to": SHIP_TO, "items": six}, {"ship_to": SHIP_TO, "items": []},
                 {"ship_to": SHIP_TO, "items": [ITEM, ITEM]}, {"ship_to": "x", "items": [ITEM]},
                 {"items": [ITEM]}, {"ship_to": SHIP_TO, "items": [{"serial_number": "ACME-0001"}]}):
        assert client.post(url, json=body, headers=tokens["engineer"]).status_code == 400, body
    assert client.post(url, json={"ship_to": SHIP_TO, "items": [ITEM]}, headers=tokens["gtac"]).status_code == 403
