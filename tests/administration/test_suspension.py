"""A suspended partner (SPEC §5, issue 13): its users and its customers' users cannot sign in, it
cannot open cases or escalate, and its open SRs stay with GTAC. Reinstating restores all of it."""
from __future__ import annotations

import pytest

from tests.administration.helpers import org_id
from tests.api.conftest import assert_error
from tests.case_helpers import complete_checklist, new_case
from tests.conftest import DEMO_EMAILS, basic
from tests.srs.helpers import escalate, get_sr, move
from tests.web.helpers import csrf_token, sign_in, text

NORTHWIND_PEOPLE = ("engineer", "admin", "customer")


def suspend(app, client, tokens, name="Northwind Networks"):
    answer = client.post(f"/api/v1/admin/partners/{org_id(app, name)}/suspension", headers=tokens["vendor_admin"])
    assert answer.status_code == 200, answer.json


def reinstate(app, client, tokens, name="Northwind Networks"):
    answer = client.delete(f"/api/v1/admin/partners/{org_id(app, name)}/suspension", headers=tokens["vendor_admin"])
    assert answer.status_code == 200, answer.json


def web_sign_in(client, who):
    token = csrf_token(text(client.get("/login")))
    return client.post("/login", data={"email": DEMO_EMAILS[who], "password": "demo-password", "csrf_token": token})


@pytest.mark.parametrize("who", NORTHWIND_PEOPLE)
def test_a_suspended_partners_people_get_no_token_and_are_told_why(app, client, tokens, row_counts, who):
    suspend(app, client, tokens)
    before = row_counts()
    error = assert_error(client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS[who])), 403,
                         "organisation_suspended")
    assert "Northwind Networks" in error["message"] and "suspended" in error["message"]
    assert row_counts() == before, "a refused sign-in is no failed guess, and issues nothing"
    # A wrong password is still just a wrong password: the suspension is told only to who knows it.
    assert_error(client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS[who], "not-the-password")), 401,
                 "invalid_credentials")
    reinstate(app, client, tokens)
    assert client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS[who])).status_code == 201


@pytest.mark.parametrize("who", NORTHWIND_PEOPLE)
def test_a_suspended_partners_people_cannot_sign_in_on_the_web(app, client, tokens, who):
    suspend(app, client, tokens)
    answer = web_sign_in(client, who)
    assert answer.status_code == 403
    assert "is suspended by the vendor" in text(answer)
    assert client.get("/cases").status_code == 302, "not signed in"
    reinstate(app, client, tokens)
    assert web_sign_in(client, who).status_code == 302


def test_another_partners_people_sign_in_as_before(app, client, tokens):
    suspend(app, client, tokens)
    for who in ("contoso", "fabrikam", "gtac", "vendor_admin"):
        assert client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS[who])).status_code == 201, who


@pytest.mark.parametrize("who,serial", [("engineer", "ACME-0002"), ("admin", "ACME-0002"), ("customer", "ACME-0002")])
def test_a_suspended_partner_opens_no_case(app, client, tokens, row_counts, who, serial):
    """Tokens issued before the suspension still read; they open nothing."""
    suspend(app, client, tokens)
    before = row_counts()
    error = assert_error(client.post("/api/v1/cases", headers=tokens[who], json={
        "serial_number": serial, "software_version": "32.6.1.4", "severity": "S2",
        "title": "Uplink flaps", "description": "Port 1:49 flaps."}), 422, "partner_suspended")
    assert "Northwind Networks is suspended" in error["message"]
    assert row_counts() == before
    reinstate(app, client, tokens)
    assert new_case(client, tokens[who], serial_number=serial)["status"] == "open"


def test_escalation_names_the_suspension_among_every_reason(app, client, tokens, row_counts):
    ready = new_case(client, tokens["engineer"], serial_number="ACME-0003")
    complete_checklist(client, tokens["engineer"], ready["id"])
    unready = new_case(client, tokens["engineer"], serial_number="ACME-0004")
    suspend(app, client, tokens)
    before = row_counts()

    def reasons(case):
        answer = client.post(f"/api/v1/cases/{case['id']}/escalation", json={}, headers=tokens["engineer"])
        error = assert_error(answer, 422, "escalation_refused")
        return [reason["code"] for reason in error["details"]["reasons"]]

    assert reasons(ready) == ["partner_suspended"]
    unready_reasons = reasons(unready)
    assert "partner_suspended" in unready_reasons and "checklist_item_unmet" in unready_reasons
    assert row_counts() == before
    reinstate(app, client, tokens)
    answer = client.post(f"/api/v1/cases/{ready['id']}/escalation", json={}, headers=tokens["engineer"])
    assert answer.status_code == 201, answer.json


def test_open_srs_stay_with_gtac_while_their_partner_is_suspended(app, client, tokens):
    number = escalate(client, tokens)
    suspend(app, client, tokens)
    queue = client.get("/api/v1/srs", headers=tokens["gtac"]).json
    assert number in [sr["sr_number"] for sr in queue["items"]]
    assert get_sr(client, tokens["gtac"], number)["status"] == "new"
    assert move(client, tokens["gtac"], number, "assigned").status_code == 200
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    assert get_sr(client, tokens["manager"], number)["status"] == "in_progress"


def test_a_signed_in_engineer_is_told_on_the_pages_why_nothing_opens_or_escalates(app, client, tokens):
    """A session begun before the suspension stays; the case form and the escalation button say why
    they are refused."""
    import re

    sign_in(client, "engineer")
    case = new_case(client, tokens["engineer"], serial_number="ACME-0003")
    suspend(app, client, tokens)
    form = text(client.get("/cases/new"))
    opened = client.post("/cases/new", data={
        "csrf_token": csrf_token(form), "serial_number": "ACME-0002", "software_version": "32.6.1.4",
        "severity": "S3", "title": "Fan alarm on the stack", "description": "Fan 2 reports failure."})
    assert opened.status_code == 422
    assert "Northwind Networks is suspended by the vendor: no case can be opened with it" in text(opened)
    page = text(client.get(f"/cases/{case['id']}"))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    refused = client.post(f"/cases/{case['id']}/escalation", data={"csrf_token": csrf_token(page),
                                                                   "idempotency_key": key})
    assert refused.status_code == 422
    assert "Northwind Networks is suspended by the vendor: it cannot escalate until reinstated." in text(refused)


def test_a_session_begun_before_the_suspension_issues_no_new_token(app, client, tokens, row_counts):
    sign_in(client, "engineer")
    page = text(client.get("/account/tokens"))
    suspend(app, client, tokens)
    before = row_counts()
    answer = client.post("/account/tokens", data={"csrf_token": csrf_token(page), "name": "After the suspension"})
    assert answer.status_code == 403
    assert "Northwind Networks is suspended by the vendor" in text(answer)
    assert row_counts() == before


def test_a_customer_moved_away_from_a_suspended_partner_is_served_again(app, client, tokens):
    suspend(app, client, tokens)
    assert_error(client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["customer"])), 403, "organisation_suspended")
    moved = client.patch(f"/api/v1/admin/customers/{org_id(app, 'Acme Corp')}",
                         json={"partner_id": org_id(app, "Contoso Integrators")}, headers=tokens["vendor_admin"])
    assert moved.status_code == 200, moved.json
    assert client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["customer"])).status_code == 201
    assert new_case(client, tokens["customer"], serial_number="ACME-0009")["partner"]["name"] == "Contoso Integrators"
