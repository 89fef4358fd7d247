"""Changing your own password (web and API), and resetting a forgotten one by an e-mailed link."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import AccountLink, WebSession
from app.audit.models import AuditEvent
from app.extensions import db
from tests.accounts.mail import link_path, mailbox, mails_to  # noqa: F401 (fixture)
from tests.accounts.test_web_sessions import opens_cases, session_cookie
from tests.api.conftest import assert_error, check_each, count_rows
from tests.conftest import DEMO_EMAILS, basic
from tests.web.helpers import csrf_token, sign_in, text

NEW = "a brand new passphrase"


def test_changing_your_password_on_the_web_keeps_you_signed_in_and_signs_out_the_rest(app, client, demo):
    elsewhere = app.test_client()
    sign_in(elsewhere, "engineer")
    other_cookie = session_cookie(elsewhere)
    csrf = sign_in(client, "engineer")
    wrong = client.post("/account/password", data={"csrf_token": csrf, "current_password": "not-it",
                                                   "new_password": NEW, "confirm": NEW})
    assert wrong.status_code == 400 and "Wrong password." in text(wrong)
    assert opens_cases(app, other_cookie)
    differ = client.post("/account/password", data={"csrf_token": csrf, "current_password": "demo-password",
                                                    "new_password": NEW, "confirm": NEW + "!"})
    assert differ.status_code == 400 and "The two passwords differ." in text(differ)

    answer = client.post("/account/password", data={"csrf_token": csrf, "current_password": "demo-password",
                                                     "new_password": NEW, "confirm": NEW})
    assert answer.status_code == 303
    assert "Your password is changed" in text(client.get("/account"))
    assert client.get("/cases").status_code == 200
    assert not opens_cases(app, other_cookie)
    assert client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["engineer"], NEW)).status_code == 201


PASSWORD_FAULTS = [
    ("wrong current password", {"current_password": "guess", "new_password": NEW}, 400, "wrong_password",
     "current_password"),
    ("too short", {"current_password": "demo-password", "new_password": "short"}, 400, "invalid_input",
     "new_password"),
    ("the same as before", {"current_password": "demo-password", "new_password": "demo-password"}, 400,
     "invalid_input", "new_password"),
    ("too long", {"current_password": "demo-password", "new_password": "x" * 1001}, 400, "invalid_input",
     "new_password"),
    ("missing current", {"new_password": NEW}, 400, "invalid_input", "current_password"),
    ("number for string", {"current_password": "demo-password", "new_password": 123456789012345}, 400,
     "invalid_input", "new_password"),
    ("unknown field", {"current_password": "demo-password", "new_password": NEW, "email": "x@y.z"}, 400,
     "invalid_input", "email"),
]


def test_bad_password_changes_are_refused_and_change_nothing(app, client, tokens):
    def check(label, body, status, code, field):
        with app.app_context():
            before = count_rows()
        error = assert_error(client.put("/api/v1/me/password", json=body, headers=tokens["engineer"]), status, code)
        assert field in error["details"].get("fields", {}), error
        with app.app_context():
            assert count_rows() == before
    check_each(PASSWORD_FAULTS, check)
    assert client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["engineer"])).status_code == 201


def forgot(app, email: str):
    browser = app.test_client()
    csrf = csrf_token(text(browser.get("/password-reset")))
    return browser.post("/password-reset", data={"csrf_token": csrf, "email": email})


def test_forgot_password_answers_the_same_whether_or_not_the_account_exists(app, demo, mailbox):
    known, unknown = forgot(app, DEMO_EMAILS["engineer"]), forgot(app, "nobody@northwind.example")
    assert known.status_code == unknown.status_code == 202
    assert text(known).replace(DEMO_EMAILS["engineer"], "X") == text(unknown).replace("nobody@northwind.example", "X")
    assert [m["To"] for m in mailbox.messages] == [DEMO_EMAILS["engineer"]]


def test_a_reset_link_sets_a_new_password_once_and_signs_out_every_session(app, client, demo, mailbox):
    sign_in(client, "engineer")
    cookie = session_cookie(client)
    forgot(app, DEMO_EMAILS["engineer"])
    forgot(app, DEMO_EMAILS["engineer"])  # only the newest link opens
    older, newest = (link_path(m) for m in mails_to(mailbox, DEMO_EMAILS["engineer"]))
    assert app.test_client().get(older).status_code == 404

    browser = app.test_client()
    page = browser.get(newest)
    assert page.status_code == 200 and "Choose a new password" in text(page)
    answer = browser.post(newest, data={"csrf_token": csrf_token(text(page)), "new_password": NEW, "confirm": NEW})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/login")
    assert not opens_cases(app, cookie)
    assert client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["engineer"], NEW)).status_code == 201
    spent = app.test_client().get(newest)
    assert spent.status_code == 410 and "used already" in text(spent)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebSession)
                                 .where(WebSession.user_id == demo["engineer"].id)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountLink)
                                 .where(AccountLink.used_at.is_(None))) == 0
        actions = db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.entity_id == str(demo["engineer"].id), AuditEvent.entity_type == "user",
            AuditEvent.action.like("user.password%"))).all()
    assert actions == ["user.password_reset_requested", "user.password_reset_requested", "user.password_reset"]


def test_a_deactivated_account_gets_no_reset_link_and_its_pending_link_dies(app, client, demo, mailbox):
    forgot(app, DEMO_EMAILS["engineer"])
    (mail,) = mailbox.messages
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "deactivate", DEMO_EMAILS["engineer"]]).exit_code == 0
    assert app.test_client().get(link_path(mail)).status_code == 404
    forgot(app, DEMO_EMAILS["engineer"])
    assert len(mailbox.messages) == 1


def test_an_unknown_link_is_a_clear_404_page(app, demo):
    for path in ("/invitations/not-a-real-link", "/password-reset/" + "x" * 500):
        answer = app.test_client().get(path)
        assert answer.status_code == 404 and "This link does not open" in text(answer)
