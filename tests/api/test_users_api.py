"""User administration through /api/v1/users: invitations, edits, deactivation, the last-admin rule,
and refusals that change nothing."""
from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa

from app.accounts.models import AccountLink, Organisation, User
from app.audit.models import AuditEvent
from app.clock import FixedClock, now
from app.extensions import db
from app.outbox.models import OutboxEvent
from tests.accounts.mail import link_path, mailbox, mails_to  # noqa: F401 (fixture)
from tests.api.conftest import assert_error, check_each
from tests.conftest import basic
from tests.accounts.test_web_sessions import opens_cases, session_cookie
from tests.web.helpers import csrf_token, sign_in, text

NEW_ENGINEER = {"email": "nina@northwind.example", "name": "Nina Newcomer", "role": "partner_engineer"}


def org_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name))


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def audit_actions(app, entity_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.entity_type == "user", AuditEvent.entity_id == str(entity_id)).order_by(AuditEvent.id)))


def accept(app, path: str, password: str):
    browser = app.test_client()
    token = csrf_token(text(browser.get("/login")))
    return browser.post(path, data={"csrf_token": token, "new_password": password, "confirm": password})


def test_an_invited_engineer_chooses_a_password_by_the_emailed_link_and_signs_in(app, client, callers, mailbox):
    answer = client.post("/api/v1/users", json=NEW_ENGINEER, headers=callers["admin"])
    assert answer.status_code == 201, answer.json
    invited = answer.json
    assert (invited["role"], invited["organisation"]["name"]) == ("partner_engineer", "Northwind Networks")
    assert invited["invitation_pending"] is True and invited["active"] is True
    # No password yet: nothing signs in, and the answer is the same as for a wrong password.
    assert_error(client.post("/api/v1/tokens", headers=basic(NEW_ENGINEER["email"], "")), 401)

    (mail,) = mails_to(mailbox, NEW_ENGINEER["email"])
    assert "Northwind Networks" in mail["Subject"]
    path = link_path(mail)
    secret = path.rsplit("/", 1)[1]
    with app.app_context():  # the secret is nowhere in the database, not even in the outbox
        assert db.session.scalars(sa.select(AccountLink.digest)).all() == [hashlib.sha256(secret.encode()).hexdigest()]
        assert not any(secret in json.dumps(payload) for payload in db.session.scalars(sa.select(OutboxEvent.payload)))
    assert accept(app, path, "short").status_code == 400
    assert accept(app, path, "correct horse battery staple").status_code == 303
    assert client.post("/api/v1/tokens", headers=basic(NEW_ENGINEER["email"], "correct horse battery staple")
                       ).status_code == 201
    # The link was spent.
    again = app.test_client().get(path)
    assert again.status_code == 410 and "used already" in text(again)
    assert audit_actions(app, invited["id"]) == ["user.invited", "user.invitation_accepted"]


def test_an_expired_invitation_opens_nothing_and_a_new_one_replaces_it(app, client, callers, mailbox, monkeypatch):
    clock = FixedClock(now())
    monkeypatch.setitem(app.extensions, "clock", clock)
    monkeypatch.setitem(app.config, "INVITATION_LINK_HOURS", 2)
    invited = client.post("/api/v1/users", json=NEW_ENGINEER, headers=callers["admin"]).json
    first = link_path(mails_to(mailbox, NEW_ENGINEER["email"])[0])
    clock.advance(hours=2)
    page = app.test_client().get(first)
    assert page.status_code == 410 and "expired" in text(page)
    assert accept(app, first, "correct horse battery staple").status_code == 410

    assert client.post(f"/api/v1/users/{invited['id']}/invitation", headers=callers["admin"]).status_code == 200
    second = link_path(mails_to(mailbox, NEW_ENGINEER["email"])[1])
    assert app.test_client().get(first).status_code == 404  # replaced
    assert accept(app, second, "correct horse battery staple").status_code == 303
    assert_error(client.post(f"/api/v1/users/{invited['id']}/invitation", headers=callers["admin"]), 409, "not_invited")


def test_a_partner_admin_invites_a_customer_user_for_its_own_customer_only(app, client, callers, mailbox):
    acme = org_id(app, "Acme Corp")
    answer = client.post("/api/v1/users", headers=callers["admin"], json={
        "email": "buyer@acme.example", "name": "Bea Buyer", "role": "customer", "organisation_id": acme})
    assert answer.status_code == 201 and answer.json["organisation"]["name"] == "Acme Corp"
    for organisation in ("Fabrikam Ltd", "Contoso Integrators", "Extreme GTAC"):
        assert_error(client.post("/api/v1/users", headers=callers["admin"], json={
            "email": "x@example.com", "name": "X", "role": "customer", "organisation_id": org_id(app, organisation)}),
            422, "organisation_not_found")


def test_the_vendor_admin_invites_gtac_staff_and_a_partner_admin(app, client, callers, mailbox):
    answer = client.post("/api/v1/users", headers=callers["vendor_admin"], json={
        "email": "new.gtac@vendor.example", "name": "Gil GTAC", "role": "gtac_engineer"})
    assert answer.status_code == 201 and answer.json["organisation"]["name"] == "Extreme GTAC"
    answer = client.post("/api/v1/users", headers=callers["vendor_admin"], json={
        "email": "boss@contoso.example", "name": "Cleo Contoso", "role": "partner_admin",
        "organisation_id": org_id(app, "Contoso Integrators")})
    assert answer.status_code == 201


INVITE_FAULTS = [
    ("e-mail already used", {**NEW_ENGINEER, "email": "engineer@contoso.example"}, 409, "email_taken", "email"),
    ("e-mail used, other case", {**NEW_ENGINEER, "email": "Engineer@Northwind.example"}, 409, "email_taken", "email"),
    ("GTAC role for a partner", {**NEW_ENGINEER, "role": "gtac_engineer"}, 422, "role_not_for_organisation", "role"),
    ("customer role in the partner", {**NEW_ENGINEER, "role": "customer"}, 422, "role_not_for_organisation", "role"),
    ("unknown role", {**NEW_ENGINEER, "role": "root"}, 400, "invalid_input", "role"),
    ("not an e-mail", {**NEW_ENGINEER, "email": "nina"}, 400, "invalid_input", "email"),
    ("e-mail too long", {**NEW_ENGINEER, "email": "n" * 250 + "@x.example"}, 400, "invalid_input", "email"),
    ("blank name", {**NEW_ENGINEER, "name": "   "}, 400, "invalid_input", "name"),
    ("name too long", {**NEW_ENGINEER, "name": "n" * 201}, 400, "invalid_input", "name"),
    ("missing role", {k: v for k, v in NEW_ENGINEER.items() if k != "role"}, 400, "invalid_input", "role"),
    ("unknown organisation", {**NEW_ENGINEER, "organisation_id": 999999}, 422, "organisation_not_found",
     "organisation_id"),
    ("organisation as text", {**NEW_ENGINEER, "organisation_id": "1"}, 400, "invalid_input", "organisation_id"),
    ("a password is not the admin's to set", {**NEW_ENGINEER, "password": "x" * 20}, 400, "invalid_input", "password"),
    ("active is not the admin's to set", {**NEW_ENGINEER, "active": False}, 400, "invalid_input", "active"),
    ("NUL in the name", {**NEW_ENGINEER, "name": "Ni\x00na"}, 400, "invalid_input", "name"),
]


def test_bad_invitations_are_refused_and_change_nothing(client, callers, row_counts, mailbox):
    def check(label, body, status, code, field):
        before = row_counts()
        error = assert_error(client.post("/api/v1/users", json=body, headers=callers["admin"]), status, code)
        assert field in error["details"].get("fields", {}), error
        assert row_counts() == before
    check_each(INVITE_FAULTS, check)
    assert mailbox.messages == []


def test_edit_role_and_name_within_what_the_organisation_allows(app, client, callers):
    engineer = user_id(app, "engineer@northwind.example")
    answer = client.patch(f"/api/v1/users/{engineer}", json={"role": "partner_admin", "name": "Nadia Lead"},
                          headers=callers["admin"])
    assert answer.status_code == 200 and (answer.json["role"], answer.json["name"]) == ("partner_admin", "Nadia Lead")
    assert client.get("/api/v1/me", headers=callers["engineer"]).json["role"] == "partner_admin"
    customer = user_id(app, "customer@acme.example")
    assert_error(client.patch(f"/api/v1/users/{customer}", json={"role": "partner_engineer"},
                              headers=callers["admin"]), 422, "role_not_for_organisation")
    assert audit_actions(app, engineer)[-1] == "user.changed"


def test_the_last_admin_of_an_organisation_stays(app, client, callers, row_counts):
    admin = user_id(app, "admin@northwind.example")
    vendor_admin = user_id(app, "vendor-admin@vendor.example")
    before = row_counts()
    # Not by the vendor's admin either: a partner with no admin could not manage itself.
    assert_error(client.post(f"/api/v1/users/{admin}/deactivation", headers=callers["vendor_admin"]), 409, "last_admin")
    assert_error(client.patch(f"/api/v1/users/{admin}", json={"role": "partner_engineer"},
                              headers=callers["vendor_admin"]), 409, "last_admin")
    assert_error(client.post(f"/api/v1/users/{admin}/deactivation", headers=callers["admin"]), 409, "own_account")
    assert_error(client.patch(f"/api/v1/users/{vendor_admin}", json={"role": "programs"},
                              headers=callers["vendor_admin"]), 409, "own_role")
    assert row_counts() == before
    # With a second admin, the first may go.
    engineer = user_id(app, "engineer@northwind.example")
    client.patch(f"/api/v1/users/{engineer}", json={"role": "partner_admin"}, headers=callers["admin"])
    assert client.post(f"/api/v1/users/{admin}/deactivation", headers=callers["engineer"]).status_code == 200


def test_deactivation_ends_sessions_and_tokens_at_once_and_reactivation_brings_neither_back(app, client, callers):
    engineer = user_id(app, "engineer@northwind.example")
    browser = app.test_client()
    sign_in(browser, "engineer")
    cookie = session_cookie(browser)
    assert client.get("/api/v1/me", headers=callers["engineer"]).status_code == 200
    answer = client.post(f"/api/v1/users/{engineer}/deactivation", headers=callers["admin"])
    assert answer.status_code == 200 and answer.json["active"] is False
    assert not opens_cases(app, cookie)
    assert_error(client.get("/api/v1/me", headers=callers["engineer"]), 401, "invalid_token")
    assert_error(client.post("/api/v1/tokens", headers=basic("engineer@northwind.example")), 403, "account_deactivated")
    listed = client.get("/api/v1/users", query_string={"active": "false"}, headers=callers["admin"]).json
    assert [u["id"] for u in listed["items"]] == [engineer]

    assert client.post(f"/api/v1/users/{engineer}/reactivation", headers=callers["admin"]).json["active"] is True
    assert_error(client.get("/api/v1/me", headers=callers["engineer"]), 401, "invalid_token")
    assert not opens_cases(app, cookie)
    assert client.post("/api/v1/tokens", headers=basic("engineer@northwind.example")).status_code == 201
    assert audit_actions(app, engineer)[-2:] == ["user.deactivated", "user.reactivated"]


def test_a_partner_admin_lists_its_people_with_certifications(app, client, callers):
    listed = client.get("/api/v1/users", query_string={"limit": 100}, headers=callers["admin"]).json
    emails = {u["email"] for u in listed["items"]}
    assert emails == {"engineer@northwind.example", "admin@northwind.example", "customer@acme.example"}
    nadia = next(u for u in listed["items"] if u["email"] == "engineer@northwind.example")
    assert {c["product_family"] for c in nadia["certifications"]} == {"EXOS", "VOSS", "WING"}
    assert all(c["expires_on"] == "2030-12-31" for c in nadia["certifications"])
    found = client.get("/api/v1/users", query_string={"q": "ACME"}, headers=callers["admin"]).json["items"]
    assert [u["email"] for u in found] == ["customer@acme.example"]
    everyone = client.get("/api/v1/users", query_string={"limit": 100}, headers=callers["vendor_admin"]).json
    assert len(everyone["items"]) == 9


def test_pages_of_users_follow_the_cursor_to_the_end(client, callers):
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/users", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=callers["vendor_admin"]).json
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 9
