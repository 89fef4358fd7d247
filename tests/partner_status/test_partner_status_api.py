"""The Partner Performance & Training Dashboard and programme-wide status changes, through the API,
on the demo's level set (Northwind at Select, Contoso at Registered)."""
from __future__ import annotations

import logging
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.clock import now
from app.extensions import db
from tests.api.conftest import assert_error

pytestmark = pytest.mark.usefixtures("demo")
BASE = "/api/v1/partner-status"


def today() -> date:
    return now().date()


def days(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


def ids(app) -> dict:
    from app.accounts.models import Organisation
    from app.partner_status.models import LevelRequirement, PartnerLevel

    with app.app_context():
        found = {name: db.session.scalar(sa.select(Organisation.id).where(Organisation.name == full))
                 for name, full in (("nw", "Northwind Networks"), ("co", "Contoso Integrators"))}
        for level, code, req_id in db.session.execute(
                sa.select(PartnerLevel.name, LevelRequirement.code, LevelRequirement.id)
                .join(LevelRequirement.level)):
            found[f"{level}/{code}"] = req_id
        found.update({name: level_id for name, level_id in db.session.execute(
            sa.select(PartnerLevel.name, PartnerLevel.id))})
        db.session.remove()
    return found


def dashboard(client, tokens, partner_id, who="admin") -> dict:
    answer = client.get(f"{BASE}/partners/{partner_id}", headers=tokens[who])
    assert answer.status_code == 200, answer.json
    return answer.json


def requirement(body, code) -> dict:
    return next(r for r in body["requirements"] if r["code"] == code)


def change(client, tokens, **body):
    """Preview, then apply with the preview's digest; returns (preview, applied)."""
    preview = client.post(f"{BASE}/changes/preview", headers=tokens["programs"], json=body)
    assert preview.status_code == 200, preview.json
    applied = client.post(f"{BASE}/changes", headers=tokens["programs"],
                          json={**body, "reason": "Programme update", "preview_digest": preview.json["digest"]})
    assert applied.status_code == 201, applied.json
    assert applied.json["rows"] == preview.json["rows"]
    return preview.json, applied.json


def rows(preview) -> list[tuple]:
    return [(r["partner"]["name"], r["subject"], r["before"], r["after"]) for r in preview["rows"]]


def test_a_partner_sees_its_level_review_requirements_engineers_and_rebates(app, client, tokens):
    found = ids(app)
    for who in ("admin", "engineer"):
        body = dashboard(client, tokens, found["nw"], who)
        assert body["partner"]["name"] == "Northwind Networks"
        assert body["level"]["name"] == "Select"
        assert body["next_review_on"] == days(120) and body["valid_through"] == days(300)
        statuses = {r["code"]: (r["status"], r["have"], r["minimum"]) for r in body["requirements"]}
        assert statuses == {"CERT-EXOS": ("due", 1, 2), "CERT-VOSS": ("met", 1, 1), "SPEC-CAMPUS": ("met", 1, 1),
                            "SPEC-WIRELESS": ("waived", 0, 1), "TRN-FABRIC": ("met", 1, 1)}
        assert requirement(body, "SPEC-WIRELESS")["waived_until"] == days(120)
        assert requirement(body, "CERT-EXOS")["deadline"] == days(120)
        nadia = next(e for e in body["engineers"] if e["email"] == "engineer@northwind.example")
        assert [(c["product_family"], c["expires_on"], c["extended_from"]) for c in nadia["certifications"]] == [
            ("EXOS", "2030-12-31", None), ("VOSS", "2030-12-31", None), ("WING", "2030-12-31", None)]
        assert [t["course"] for t in nadia["trainings"]] == ["Fabric Connect Essentials", "Partner Sales Foundations"]
        [rebate] = body["rebates"]
        assert (rebate["programme"]["name"], rebate["sales"], rebate["currency"]) == ("Growth Rebate", 33_675_050,
                                                                                      "USD")
        assert rebate["attainment_bp"] > 0
        assert [s["name"] for s in body["specialisations"]] == ["Campus Fabric"]


def test_another_partners_dashboard_is_not_found_and_unknown_partner_is_404(app, client, tokens):
    found = ids(app)
    assert_error(client.get(f"{BASE}/partners/{found['co']}", headers=tokens["admin"]), 404, "partner_not_found")
    assert_error(client.get(f"{BASE}/partners/{found['nw']}", headers=tokens["contoso"]), 404, "partner_not_found")
    assert_error(client.get(f"{BASE}/partners/999999", headers=tokens["programs"]), 404, "partner_not_found")
    listed = client.get(f"{BASE}/partners", headers=tokens["contoso"]).json["items"]
    assert [row["partner"]["name"] for row in listed] == ["Contoso Integrators"]


@pytest.mark.parametrize("query, names", [
    ({}, ["Contoso Integrators", "Northwind Networks"]),
    ({"tier": "PW"}, ["Contoso Integrators"]),
    ({"region": "EMEA"}, ["Northwind Networks"]),
    ({"level": "Select"}, ["Northwind Networks"]),
    ({"unmet": "Select/CERT-EXOS"}, ["Northwind Networks"]),
    ({"unmet": "Select/CERT-VOSS"}, []),
    ({"unmet": "Registered/TRN-SALES"}, ["Contoso Integrators"]),
])
def test_programs_filter_every_partners_status(app, client, tokens, query, names):
    found = ids(app)
    args = {**query}
    if "level" in args:
        args["level_id"] = found[args.pop("level")]
    if "unmet" in args:
        args["unmet"] = found[args["unmet"]]
    answer = client.get(f"{BASE}/partners", headers=tokens["programs"], query_string=args)
    assert answer.status_code == 200, answer.json
    assert [row["partner"]["name"] for row in answer.json["items"]] == names


def test_unknown_filters_are_404(client, tokens):
    assert_error(client.get(f"{BASE}/partners?unmet=999999", headers=tokens["programs"]), 404, "requirement_not_found")
    assert_error(client.get(f"{BASE}/partners?level_id=999999", headers=tokens["programs"]), 404, "level_not_found")
    assert_error(client.get(f"{BASE}/partners?tier=GOLD", headers=tokens["programs"]), 400)


def test_extend_all_levels_through_a_date(app, client, tokens):
    found = ids(app)
    preview, applied = change(client, tokens, kind="extend_levels", new_date=days(400))
    assert rows(preview) == [("Contoso Integrators", "level Registered", days(120), days(400)),
                             ("Northwind Networks", "level Select", days(300), days(400))]
    assert dashboard(client, tokens, found["nw"])["valid_through"] == days(400)
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "partner_status.extend_levels")).one()
        assert event.entity_id == str(applied["change_id"])
        assert event.after["reason"] == "Programme update" and len(event.after["rows"]) == 2
        db.session.remove()
    history = client.get(f"{BASE}/changes", headers=tokens["programs"]).json
    assert (history[0]["kind"], history[0]["affected"], history[0]["created_by"]) == ("extend_levels", 2,
                                                                                      "Priya Programs")


def test_move_the_levelling_review_of_one_tier(app, client, tokens):
    found = ids(app)
    preview, _ = change(client, tokens, kind="move_review", new_date=days(200), tier="PWP")
    assert rows(preview) == [("Northwind Networks", "levelling review", days(120), days(200))]
    assert dashboard(client, tokens, found["nw"])["next_review_on"] == days(200)
    assert dashboard(client, tokens, found["co"], "contoso")["next_review_on"] == days(120)


def test_a_review_moved_past_the_last_day_a_level_is_held_is_refused_and_tells_nobody(app, client, tokens,
                                                                                     row_counts, caplog):
    found = ids(app)
    # Contoso holds its level through days(120), Northwind through days(300).
    body = {"kind": "move_review", "new_date": days(200)}
    before = row_counts()
    with caplog.at_level(logging.INFO, logger="app.notifications.mail"):
        for path, extra in (("/changes/preview", {}), ("/changes", {"reason": "Programme update"})):
            error = assert_error(client.post(BASE + path, headers=tokens["programs"], json={**body, **extra}),
                                 422, "dates_in_wrong_order")
            assert "Contoso Integrators" in error["message"] and days(120) in error["message"]
            assert "Northwind Networks" not in error["message"]
            assert error["details"]["fields"]["new_date"] == [f"On or before {days(120)}."]
    assert row_counts() == before
    assert not [r for r in caplog.records if r.name == "app.notifications.mail"]
    assert dashboard(client, tokens, found["nw"])["next_review_on"] == days(120)
    assert dashboard(client, tokens, found["co"], "contoso")["next_review_on"] == days(120)
    # On the last day the level is held is still fine.
    preview, _ = change(client, tokens, kind="move_review", new_date=days(300), tier="PWP")
    assert rows(preview) == [("Northwind Networks", "levelling review", days(120), days(300))]


def test_push_a_requirements_deadline(app, client, tokens):
    found = ids(app)
    preview, _ = change(client, tokens, kind="push_deadline", requirement_id=found["Select/CERT-EXOS"],
                        new_date=days(180))
    assert rows(preview) == [("Northwind Networks", "requirement CERT-EXOS", days(120), days(180))]
    assert requirement(dashboard(client, tokens, found["nw"]), "CERT-EXOS")["deadline"] == days(180)
    levels = client.get(f"{BASE}/levels", headers=tokens["engineer"]).json
    assert [level["name"] for level in levels] == ["Registered", "Select", "Premier"]


def test_extend_every_specialisation_active_on_a_date(app, client, tokens):
    found = ids(app)
    preview, _ = change(client, tokens, kind="extend_specialisations", active_on=today().isoformat(),
                        new_date=days(365))
    # Contoso's Campus Fabric ended 35 days ago: not active today, not extended.
    assert rows(preview) == [("Northwind Networks", "specialisation Campus Fabric", days(45), days(365))]
    [held] = dashboard(client, tokens, found["nw"])["specialisations"]
    assert (held["ends_on"], held["active"]) == (days(365), True)


def add_specialisation(client, tokens, partner_id, name, starts_on, ends_on) -> None:
    added = client.post(f"{BASE}/specialisations", headers=tokens["programs"],
                        json={"partner_id": partner_id, "name": name, "starts_on": starts_on, "ends_on": ends_on})
    assert added.status_code == 201, added.json


def held(client, tokens, partner_id) -> list[tuple]:
    return sorted((s["name"], s["starts_on"], s["ends_on"])
                  for s in dashboard(client, tokens, partner_id)["specialisations"])


def test_an_extension_overlapping_a_later_term_of_the_same_specialisation_is_refused(app, client, tokens,
                                                                                   row_counts):
    found = ids(app)
    add_specialisation(client, tokens, found["nw"], "Wireless", days(-100), days(5))
    add_specialisation(client, tokens, found["nw"], "Wireless", days(11), days(200))
    shown = held(client, tokens, found["nw"])
    before = row_counts()
    body = {"kind": "extend_specialisations", "active_on": today().isoformat(), "new_date": days(100)}
    for path, extra in (("/changes/preview", {}), ("/changes", {"reason": "Programme update"})):
        error = assert_error(client.post(BASE + path, headers=tokens["programs"], json={**body, **extra}),
                             409, "specialisation_exists")
        assert "Northwind Networks" in error["message"] and "Wireless" in error["message"]
        assert days(11) in error["message"]
    # Nothing moved, not even Northwind's Campus Fabric, which overlaps nothing.
    assert (held(client, tokens, found["nw"]), row_counts()) == (shown, before)
    # Until the day before the later term starts, the terms meet without overlapping.
    preview, _ = change(client, tokens, kind="extend_specialisations", active_on=today().isoformat(),
                        new_date=days(10))
    assert rows(preview) == [("Northwind Networks", "specialisation Wireless", days(5), days(10))]
    assert held(client, tokens, found["nw"]) == [("Campus Fabric", days(-180), days(45)),
                                                 ("Wireless", days(-100), days(10)),
                                                 ("Wireless", days(11), days(200))]


def test_waive_a_requirement_until_a_date(app, client, tokens):
    found = ids(app)
    assert requirement(dashboard(client, tokens, found["nw"]), "CERT-EXOS")["status"] == "due"
    preview, _ = change(client, tokens, kind="waive_requirement", requirement_id=found["Select/CERT-EXOS"],
                        new_date=days(90))
    assert rows(preview) == [("Northwind Networks", "requirement CERT-EXOS", None, days(90))]
    waived = requirement(dashboard(client, tokens, found["nw"]), "CERT-EXOS")
    assert (waived["status"], waived["waived_until"], waived["met"]) == ("waived", days(90), False)
    # Waived that long already: nobody is affected, and applying is a conflict.
    again = client.post(f"{BASE}/changes/preview", headers=tokens["programs"],
                        json={"kind": "waive_requirement", "requirement_id": found["Select/CERT-EXOS"],
                              "new_date": days(60)})
    assert again.json["rows"] == []


def test_extend_the_exceptions_of_partnerworks_partners(app, client, tokens):
    found = ids(app)
    before = requirement(dashboard(client, tokens, found["co"], "contoso"), "TRN-SALES")
    assert (before["status"], before["exception_until"]) == ("waived", days(45))
    preview, _ = change(client, tokens, kind="extend_exceptions", new_date=days(150))
    assert rows(preview) == [("Contoso Integrators", "exception from TRN-SALES", days(45), days(150))]
    after = requirement(dashboard(client, tokens, found["co"], "contoso"), "TRN-SALES")
    assert (after["exception_until"], after["exception_granted_until"]) == (days(150), days(45))
    # Only PW partners unless told otherwise: PWP reaches nobody.
    pwp = client.post(f"{BASE}/changes/preview", headers=tokens["programs"],
                      json={"kind": "extend_exceptions", "new_date": days(200), "tier": "PWP"})
    assert pwp.json["rows"] == []


def test_a_certification_extension_shows_on_the_dashboard(app, client, tokens):
    found = ids(app)
    extended = client.post("/api/v1/admin/certifications/extensions", headers=tokens["vendor_admin"],
                           json={"days": 30, "product_family": "EXOS"})
    assert extended.status_code == 200, extended.json
    nadia = next(e for e in dashboard(client, tokens, found["nw"])["engineers"]
                 if e["email"] == "engineer@northwind.example")
    exos = next(c for c in nadia["certifications"] if c["product_family"] == "EXOS")
    assert (exos["expires_on"], exos["extended_from"]) == ("2031-01-30", "2030-12-31")


def test_an_exception_is_granted_once(app, client, tokens):
    found = ids(app)
    body = {"partner_id": found["nw"], "requirement_id": found["Select/CERT-EXOS"], "until": days(30),
            "reason": "Two engineers sit the exam next month"}
    granted = client.post(f"{BASE}/exceptions", headers=tokens["programs"], json=body)
    assert granted.status_code == 201, granted.json
    assert requirement(dashboard(client, tokens, found["nw"]), "CERT-EXOS")["exception_until"] == days(30)
    assert_error(client.post(f"{BASE}/exceptions", headers=tokens["programs"], json=body), 409, "exception_exists")


@pytest.mark.parametrize("change, status, code", [
    ({"partner_id": 999999}, 404, "partner_not_found"),
    ({"requirement_id": 999999}, 404, "requirement_not_found"),
    ({"until": "2020-01-01"}, 422, "date_in_past"),
    ({"reason": ""}, 400, "invalid_input"),
])
def test_a_bad_exception_is_refused_and_changes_nothing(app, client, tokens, row_counts, change, status, code):
    found = ids(app)
    body = {"partner_id": found["nw"], "requirement_id": found["Select/CERT-EXOS"], "until": days(30),
            "reason": "Two engineers sit the exam next month", **change}
    before = row_counts()
    assert_error(client.post(f"{BASE}/exceptions", headers=tokens["programs"], json=body), status, code)
    assert row_counts() == before


def _bad(found):
    return [
        ({"kind": "push_deadline", "requirement_id": 999999, "new_date": days(200)}, 404, "requirement_not_found"),
        ({"kind": "waive_requirement", "requirement_id": 999999, "new_date": days(200)}, 404,
         "requirement_not_found"),
        ({"kind": "push_deadline", "requirement_id": found["Select/CERT-EXOS"], "new_date": days(100)}, 422,
         "dates_in_wrong_order"),
        ({"kind": "extend_specialisations", "active_on": days(10), "new_date": days(5)}, 422,
         "dates_in_wrong_order"),
        ({"kind": "extend_levels", "new_date": days(-1)}, 422, "date_in_past"),
        ({"kind": "push_deadline", "new_date": days(200)}, 400, "invalid_input"),
        ({"kind": "extend_specialisations", "new_date": days(200)}, 400, "invalid_input"),
        ({"kind": "push_deadline", "requirement_id": found["Select/CERT-EXOS"], "new_date": days(200),
          "tier": "PW"}, 400, "invalid_input"),
        ({"kind": "promote_everyone", "new_date": days(200)}, 400, None),
        ({"kind": "extend_levels", "new_date": "next year"}, 400, None),
        # Contoso's Campus Fabric was active 60 days ago: extending it until yesterday is no extension.
        ({"kind": "extend_specialisations", "active_on": days(-60), "new_date": days(-1)}, 422, "date_in_past"),
    ]


@pytest.mark.parametrize("case", range(11))
def test_bad_changes_are_refused_and_change_nothing(app, client, tokens, row_counts, case):
    body, status, code = _bad(ids(app))[case]
    before = row_counts()
    for path, extra in (("/changes/preview", {}), ("/changes", {"reason": "Programme update"})):
        assert_error(client.post(BASE + path, headers=tokens["programs"], json={**body, **extra}), status, code)
    assert row_counts() == before


def test_a_stale_preview_is_refused_and_nothing_is_applied(app, client, tokens, row_counts):
    body = {"kind": "extend_levels", "new_date": days(400)}
    digest = client.post(f"{BASE}/changes/preview", headers=tokens["programs"], json=body).json["digest"]
    change(client, tokens, kind="move_review", new_date=days(100))  # unrelated: the levels' rows are the same
    change(client, tokens, kind="extend_levels", new_date=days(350))  # this moves what the preview showed
    before = row_counts()
    stale = client.post(f"{BASE}/changes", headers=tokens["programs"],
                        json={**body, "reason": "Programme update", "preview_digest": digest})
    assert_error(stale, 409, "preview_stale")
    assert row_counts() == before


def test_a_change_applied_from_a_page_read_before_a_colleagues_change_does_not_undo_it(app, client, tokens):
    # The change desk keeps the levels and their requirements it read; a colleague pushes the same deadline
    # further in between. Applying this page's earlier preview must not move the deadline back.
    from app.partner_status import changes, dashboard as status_dashboard
    from app.accounts.models import User

    found = ids(app)
    with app.app_context():
        programs = db.session.scalars(sa.select(User).where(User.email == "programs@vendor.example")).one()
        shown = status_dashboard.levels(programs)  # the page's read, kept
        mine = changes.ChangeRequest(kind="push_deadline", new_date=today() + timedelta(days=130),
                                     requirement_id=found["Select/CERT-EXOS"])
        previewed = changes.preview_change(programs, mine)
        # In a thread of its own, as another request: a request made from here would share this context.
        colleague = threading.Thread(target=change, args=(client, tokens), kwargs={
            "kind": "push_deadline", "requirement_id": found["Select/CERT-EXOS"], "new_date": days(150)})
        colleague.start()
        colleague.join(timeout=60)
        with pytest.raises(changes.RuleViolation) as refused:  # D+130 is no push past the colleague's D+150
            changes.apply_change(programs, mine, "Programme update", previewed.digest)
        assert refused.value.code == "dates_in_wrong_order"
        assert shown  # kept, as the page keeps it
        db.session.remove()
    assert requirement(dashboard(client, tokens, found["nw"]), "CERT-EXOS")["deadline"] == days(150)
