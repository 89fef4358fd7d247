"""The programmes team sets the level set up through the API: defines levels and their requirements,
puts a partner at a level, records trainings and specialisations; bad input is refused with the error
body and writes nothing. Partners are told of programme-wide changes; every partner's list comes a
page at a time."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from tests.api.conftest import assert_error
from tests.partner_status.test_partner_status_api import BASE, change, dashboard, days, ids, requirement, today

pytestmark = pytest.mark.usefixtures("demo")

GOLD = {"name": "Gold", "rank": 4, "requirements": [
    {"code": "CERT-EXOS", "kind": "certified_engineers", "subject": "exos", "minimum": 1, "deadline": days(90)},
    {"code": "TRN-GOLD", "kind": "training", "subject": "Gold Onboarding", "minimum": 1, "deadline": days(90)}]}


def user_id(app, email: str) -> int:
    from app.accounts.models import User

    with app.app_context():
        found = db.session.scalar(sa.select(User.id).where(User.email == email))
        db.session.remove()
    return found


def audited(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        db.session.remove()
    return events


def test_programs_define_a_level_put_a_partner_at_it_and_its_requirements_are_judged(app, client, tokens):
    found = ids(app)
    created = client.post(f"{BASE}/levels", headers=tokens["programs"], json=GOLD)
    assert created.status_code == 201, created.json
    gold = created.json
    assert (gold["name"], gold["rank"]) == ("Gold", 4)
    assert [(r["code"], r["kind"], r["subject"]) for r in gold["requirements"]] == [
        ("CERT-EXOS", "certified_engineers", "exos"), ("TRN-GOLD", "training", "Gold Onboarding")]
    added = client.post(f"{BASE}/levels/{gold['id']}/requirements", headers=tokens["programs"],
                        json={"code": "SPEC-WIRELESS", "kind": "specialisation", "subject": "Wireless",
                              "minimum": 1, "deadline": days(60)})
    assert added.status_code == 201, added.json
    assert [level["name"] for level in client.get(f"{BASE}/levels", headers=tokens["engineer"]).json] == [
        "Registered", "Select", "Premier", "Gold"]

    put = client.put(f"{BASE}/partners/{found['nw']}/status", headers=tokens["programs"],
                     json={"level_id": gold["id"], "valid_through": days(365), "next_review_on": days(200)})
    assert put.status_code == 200, put.json
    assert (put.json["level"]["name"], put.json["valid_through"], put.json["next_review_on"]) == (
        "Gold", days(365), days(200))
    body = dashboard(client, tokens, found["nw"])
    assert body["level"]["name"] == "Gold"
    # Nadia holds an EXOS certification: met; nobody took Gold Onboarding yet; no Wireless held.
    assert {r["code"]: r["status"] for r in body["requirements"]} == {
        "CERT-EXOS": "met", "TRN-GOLD": "due", "SPEC-WIRELESS": "due"}

    nadia = user_id(app, "engineer@northwind.example")
    trained = client.post(f"{BASE}/trainings", headers=tokens["programs"],
                          json={"user_id": nadia, "course": "Gold Onboarding", "completed_on": days(-3)})
    assert trained.status_code == 201, trained.json
    held = client.post(f"{BASE}/specialisations", headers=tokens["programs"],
                       json={"partner_id": found["nw"], "name": "Wireless", "starts_on": days(-1),
                             "ends_on": days(300)})
    assert held.status_code == 201, held.json
    body = dashboard(client, tokens, found["nw"])
    assert {r["code"]: r["status"] for r in body["requirements"]} == {
        "CERT-EXOS": "met", "TRN-GOLD": "met", "SPEC-WIRELESS": "met"}
    assert "Gold Onboarding" in [t["course"] for e in body["engineers"] for t in e["trainings"]]

    [level_event] = audited(app, "partner_level.created")[-1:]
    assert level_event.after["name"] == "Gold" and len(level_event.after["requirements"]) == 2
    assert audited(app, "partner_level.requirement_added")[-1].after["requirement"][0] == "SPEC-WIRELESS"
    status_event = audited(app, "partner_status.set")[-1]
    assert status_event.entity_id == str(found["nw"])
    assert status_event.before["level_id"] == found["Select"] and status_event.after["level_id"] == gold["id"]
    assert audited(app, "training.completed")[-1].after["course"] == "Gold Onboarding"
    assert audited(app, "specialisation.added")[-1].after["name"] == "Wireless"


def _bad_setup(app) -> list[tuple[str, str, dict, int, str | None]]:
    found = ids(app)
    nadia = user_id(app, "engineer@northwind.example")
    customer = user_id(app, "customer@acme.example")
    gtac = user_id(app, "gtac@vendor.example")
    req = GOLD["requirements"][0]
    status = f"/partners/{found['nw']}/status"
    select_req = f"/levels/{found['Select']}/requirements"
    return [
        ("post", "/levels", {**GOLD, "name": "select"}, 409, "level_exists"),
        ("post", "/levels", {**GOLD, "rank": 2}, 409, "level_exists"),
        ("post", "/levels", {**GOLD, "requirements": [req, {**req, "code": "cert-exos"}]}, 400, "invalid_input"),
        ("post", "/levels", {**GOLD, "requirements": [{**req, "subject": "Token Ring"}]}, 422, "unknown_family"),
        ("post", "/levels", {**GOLD, "requirements": [{**req, "deadline": days(-1)}]}, 422, "date_in_past"),
        ("post", "/levels", {**GOLD, "requirements": [{**req, "kind": "badge"}]}, 400, None),
        ("post", "/levels", {**GOLD, "requirements": [{**req, "minimum": 0}]}, 400, None),
        ("post", "/levels", {**GOLD, "name": "  "}, 400, "invalid_input"),
        ("post", "/levels/999999/requirements", req, 404, "level_not_found"),
        ("post", select_req, req, 409, "requirement_exists"),
        ("post", select_req, {**req, "code": "CERT-WING", "subject": "Token Ring"}, 422, "unknown_family"),
        ("post", select_req, {**req, "code": "SPEC-X", "kind": "specialisation", "minimum": 2}, 400, "invalid_input"),
        ("put", status, {"level_id": found["Premier"], "valid_through": days(100), "next_review_on": days(200)},
         422, "dates_in_wrong_order"),
        ("put", status, {"level_id": found["Premier"], "valid_through": days(-1), "next_review_on": days(-2)},
         422, "date_in_past"),
        ("put", status, {"level_id": 999999, "valid_through": days(100), "next_review_on": days(50)},
         404, "level_not_found"),
        ("put", "/partners/999999/status", {"level_id": found["Premier"], "valid_through": days(100),
                                            "next_review_on": days(50)}, 404, "partner_not_found"),
        ("post", "/trainings", {"user_id": nadia, "course": "Fabric Connect Essentials",
                                "completed_on": days(-1)}, 409, "training_exists"),
        ("post", "/trainings", {"user_id": nadia, "course": "New", "completed_on": days(1)}, 422, "date_in_future"),
        ("post", "/trainings", {"user_id": customer, "course": "New", "completed_on": days(-1)}, 404,
         "user_not_found"),
        ("post", "/trainings", {"user_id": gtac, "course": "New", "completed_on": days(-1)}, 404, "user_not_found"),
        ("post", "/specialisations", {"partner_id": found["nw"], "name": "campus fabric", "starts_on": days(10),
                                      "ends_on": days(400)}, 409, "specialisation_exists"),
        ("post", "/specialisations", {"partner_id": found["nw"], "name": "Wireless", "starts_on": days(10),
                                      "ends_on": days(5)}, 422, "dates_in_wrong_order"),
        ("post", "/specialisations", {"partner_id": 999999, "name": "Wireless", "starts_on": days(1),
                                      "ends_on": days(5)}, 404, "partner_not_found"),
    ]


@pytest.mark.parametrize("case", range(23))
def test_bad_setup_is_refused_with_the_reason_and_writes_nothing(app, client, tokens, row_counts, case):
    method, path, body, status, code = _bad_setup(app)[case]
    before = row_counts()
    error = assert_error(getattr(client, method)(BASE + path, headers=tokens["programs"], json=body), status, code)
    if status == 422 or code == "invalid_input":
        assert error["details"].get("fields"), error  # the form can say which field
    assert row_counts() == before


def test_a_specialisation_held_again_after_the_last_one_ended_is_recorded(app, client, tokens):
    # Contoso's Campus Fabric ended 35 days ago: a new term does not overlap it.
    found = ids(app)
    again = client.post(f"{BASE}/specialisations", headers=tokens["programs"],
                        json={"partner_id": found["co"], "name": "Campus Fabric", "starts_on": today().isoformat(),
                              "ends_on": days(365)})
    assert again.status_code == 201, again.json
    campus = [s for s in dashboard(client, tokens, found["co"], "contoso")["specialisations"]]
    assert sorted((s["ends_on"], s["active"]) for s in campus) == [(days(-35), False), (days(365), True)]


def test_partners_admins_are_told_of_a_programme_wide_change(app, client, tokens, caplog):
    found = ids(app)
    with caplog.at_level(logging.INFO, logger="app.notifications.mail"):
        _, pushed = change(client, tokens, kind="push_deadline", requirement_id=found["Select/CERT-EXOS"],
                           new_date=days(180))
        _, extended = change(client, tokens, kind="extend_levels", new_date=days(500))
    mails = [r.getMessage() for r in caplog.records if r.name == "app.notifications.mail"]
    # Northwind (Select) is reached by both; Contoso only by the second and has no admin to tell.
    assert mails == ["e-mail (no MAIL_SERVER set) to admin@northwind.example: "
                     "Partner programme: a requirement's deadline is pushed",
                     "e-mail (no MAIL_SERVER set) to admin@northwind.example: "
                     "Partner programme: your partner level is extended"]
    with app.app_context():
        from app.outbox.models import OutboxEvent

        events = {e.payload["change_id"]: e for e in db.session.scalars(sa.select(OutboxEvent).where(
            OutboxEvent.topic == "notify.partner_status.changed"))}
        rows = [sorted(tuple(row[:2]) for row in events[applied["change_id"]].payload["rows"])
                for applied in (pushed, extended)]
        db.session.remove()
    assert rows == [[(found["nw"], "requirement CERT-EXOS")],
                    sorted([(found["co"], "level Registered"), (found["nw"], "level Select")])]


def test_a_refused_change_tells_nobody(app, client, tokens, caplog):
    found = ids(app)
    with caplog.at_level(logging.INFO, logger="app.notifications.mail"):
        refused = client.post(f"{BASE}/changes", headers=tokens["programs"],
                              json={"kind": "push_deadline", "requirement_id": found["Select/CERT-EXOS"],
                                    "new_date": days(100), "reason": "Too early"})
    assert_error(refused, 422, "dates_in_wrong_order")
    assert not [r for r in caplog.records if r.name == "app.notifications.mail"]
    assert requirement(dashboard(client, tokens, found["nw"]), "CERT-EXOS")["deadline"] == days(120)


def _more_partners(app, count: int) -> None:
    from app.accounts.models import Organisation, OrgKind, PartnerTier
    from app.uow import unit_of_work

    with app.app_context():
        with unit_of_work() as uow:
            uow.session.add_all(Organisation(name=f"Partner {n:02d}", kind=OrgKind.PARTNER, tier=PartnerTier.PW,
                                             region="APAC") for n in range(count))
        db.session.remove()


def test_every_partners_list_comes_a_page_at_a_time_and_the_export_holds_them_all(app, client, tokens, signed_in):
    _more_partners(app, 5)
    seen, cursor, pages = [], None, 0
    while True:
        answer = client.get(f"{BASE}/partners", headers=tokens["programs"],
                            query_string={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.json
        assert len(answer.json["items"]) <= 3
        seen += [row["partner"]["name"] for row in answer.json["items"]]
        pages += 1
        cursor = answer.json["next_cursor"]
        if cursor is None:
            break
    names = ["Contoso Integrators", "Northwind Networks"] + [f"Partner {n:02d}" for n in range(5)]
    assert (seen, pages) == (names, 3)
    exported = signed_in("programs").get("/partner-status/partners.csv").get_data(as_text=True)
    assert [line.split(",")[0] for line in exported.splitlines()[1:]] == names


def test_a_page_filtered_by_an_unmet_requirement_is_filled_past_partners_who_meet_it(app, client, tokens):
    found = ids(app)
    _more_partners(app, 4)
    with app.app_context():
        from app.accounts.models import User
        from app.partner_status import levels

        programs = db.session.scalars(sa.select(User).where(User.email == "programs@vendor.example")).one()
        from app.accounts.models import Organisation

        for partner_id in db.session.scalars(sa.select(Organisation.id).where(Organisation.name.like("Partner 0%"))):
            levels.set_status(programs, partner_id, found["Registered"], today(), today())
        db.session.remove()
    # Registered asks for an EXOS engineer: Contoso has one, the four new partners none.
    args = {"unmet": found["Registered/CERT-EXOS"], "limit": 2}
    first = client.get(f"{BASE}/partners", headers=tokens["programs"], query_string=args).json
    assert [row["partner"]["name"] for row in first["items"]] == ["Partner 00", "Partner 01"]
    second = client.get(f"{BASE}/partners", headers=tokens["programs"],
                        query_string={**args, "cursor": first["next_cursor"]}).json
    assert [row["partner"]["name"] for row in second["items"]] == ["Partner 02", "Partner 03"]
    assert second["next_cursor"] is None


def test_a_forged_cursor_is_400(client, tokens):
    assert_error(client.get(f"{BASE}/partners?cursor=bm90LWEtY3Vyc29y", headers=tokens["programs"]), 400,
                 "invalid_cursor")
