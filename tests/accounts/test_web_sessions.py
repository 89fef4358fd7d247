"""Web sessions live on the server: signing out, a password change or a deactivation ends them."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from cryptography.fernet import Fernet

from app import create_app
from app.accounts.models import User, WebSession
from app.accounts.services import deactivate_user, set_password
from app.config import load_config
from app.extensions import db
from tests.conftest import DEMO_EMAILS, basic
from tests.web.helpers import csrf_token, sign_in, text


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def opens_cases(app, cookie: str) -> bool:
    """Whether a browser holding only this cookie gets the case list (not the sign-in page)."""
    stranger = app.test_client()
    stranger.set_cookie("session", cookie)
    return stranger.get("/cases").status_code == 200


def sessions_of(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(WebSession)
                                 .where(WebSession.user_id == user_id))


def test_a_cookie_copied_before_signing_out_opens_nothing_after(app, client, demo):
    token = sign_in(client, "engineer")
    copied = session_cookie(client)
    assert opens_cases(app, copied)

    answer = client.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 302
    assert not opens_cases(app, copied)
    assert client.get("/cases").status_code == 302
    assert sessions_of(app, demo["engineer"].id) == 0


def test_signing_in_moves_the_session_to_a_new_id(app, client, demo):
    client.get("/login")
    planted = session_cookie(client)  # e.g. set in the victim's browser by someone else
    sign_in(client, "engineer")
    assert session_cookie(client) != planted
    assert not opens_cases(app, planted)
    assert opens_cases(app, session_cookie(client))


def test_the_cookie_holds_only_an_id_kept_as_a_digest(app, client, demo):
    sign_in(client, "engineer")
    cookie = session_cookie(client)
    assert len(cookie) < 64 and "." not in cookie  # not a signed payload
    with app.app_context():
        ids = db.session.scalars(sa.select(WebSession.id)).all()
    assert cookie not in ids and len(ids) == 1


def test_deactivating_a_user_ends_every_session_and_token(app, demo, tokens):
    browsers = [app.test_client() for _ in range(2)]
    for browser in browsers:
        sign_in(browser, "engineer")
    other = app.test_client()
    sign_in(other, "admin")
    assert sessions_of(app, demo["engineer"].id) == 2

    with app.app_context():
        deactivate_user(DEMO_EMAILS["engineer"].upper())
    for browser in browsers:
        assert not opens_cases(app, session_cookie(browser))
        assert browser.get("/cases").status_code == 302
    assert sessions_of(app, demo["engineer"].id) == 0
    assert opens_cases(app, session_cookie(other))
    client = app.test_client()
    assert client.get("/api/v1/me", headers=tokens["engineer"]).status_code == 401
    refused = client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["engineer"]))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "account_deactivated"


@contextmanager
def statements_run(app, describe=lambda statement, cursor: " ".join(statement.split())):
    """What the database ran inside the block: describe(statement, cursor) of each, once it ran."""
    with app.app_context():
        engine = db.engine
    seen: list = []

    def on_execute(connection, cursor, statement, *rest):
        seen.append(describe(statement, cursor))

    event.listen(engine, "after_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "after_cursor_execute", on_execute)


def test_a_page_reads_its_session_and_signed_in_user_in_one_statement(app, client, demo):
    sign_in(client, "gtac")
    with statements_run(app) as statements:
        answer = client.get("/srs")
    assert answer.status_code == 200 and "GTAC queues" in text(answer)
    reads = [sql for sql in statements if sql.startswith("SELECT")]
    assert "FROM web_sessions LEFT OUTER JOIN users" in reads[0], reads[0][:200]
    # Other users may be read (the engineer filter lists GTAC's staff); the one signed in is not again.
    assert not [sql for sql in reads[1:] if sql.startswith("SELECT users.") and "WHERE users.id" in sql], \
        "the user was read a second time"


def _with_transaction_state(statement, cursor) -> tuple[str, bool]:
    # Read once the statement ran: a transaction's BEGIN goes with its first statement.
    return " ".join(statement.split())[:80], cursor.connection.info.transaction_status.name != "IDLE"


@pytest.mark.postgres
def test_on_postgresql_a_pages_session_is_read_outside_any_transaction(app, client, demo, postgres):
    """The session's one statement needs no BEGIN and COMMIT around it; the page's own work still
    runs in its transaction, and so does a sign-out's write after such a read."""
    token = sign_in(client, "gtac")
    with statements_run(app, _with_transaction_state) as seen:
        answer = client.get("/srs")
    assert answer.status_code == 200 and "GTAC queues" in text(answer)
    (session_read, outside), *page = seen
    assert "web_sessions.data" in session_read and not outside, seen
    assert page and all(inside for _, inside in page), seen

    with statements_run(app, _with_transaction_state) as seen:
        signed_out = client.post("/logout", data={"csrf_token": token})
    assert signed_out.status_code == 302
    writes = [(sql, inside) for sql, inside in seen if sql.startswith(("DELETE", "INSERT", "UPDATE"))]
    assert writes and all(inside for _, inside in writes), seen


def test_a_user_deactivated_behind_the_sessions_back_is_signed_out(app, client, demo):
    """The user read with the session is the one signed in only while active, even where the
    deactivation did not end the sessions (a change made in the database by hand)."""
    sign_in(client, "engineer")
    assert client.get("/cases").status_code == 200
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == demo["engineer"].id).values(active=False))
        db.session.commit()
    assert sessions_of(app, demo["engineer"].id) == 1
    answer = client.get("/cases")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_password_change_ends_the_users_sessions(app, client, demo):
    sign_in(client, "engineer")
    copied = session_cookie(client)
    with app.app_context():
        set_password(DEMO_EMAILS["engineer"], "a-new-long-password")
    assert not opens_cases(app, copied)

    token = csrf_token(text(client.get("/login")))
    answer = client.post("/login", data={"email": DEMO_EMAILS["engineer"],
                                         "password": "a-new-long-password", "csrf_token": token})
    assert answer.status_code == 302 and opens_cases(app, session_cookie(client))


def test_session_cookies_are_secure_in_production(app, client, demo, monkeypatch, tmp_path):
    env = {"GTAC_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://db/gtac",
           "PAYMENTS_WEBHOOK_SECRET": "w" * 40, "PAYEE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
           "SR_WEBHOOK_SECRET_KEYS": Fernet.generate_key().decode(),
           "INTEGRATION_SECRET_KEYS": Fernet.generate_key().decode()}
    production = load_config(str(tmp_path), env)
    assert (production["SESSION_COOKIE_SECURE"], production["SESSION_COOKIE_HTTPONLY"],
            production["SESSION_COOKIE_SAMESITE"]) == (True, True, "Lax")

    for key in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE"):
        monkeypatch.setitem(app.config, key, production[key])
    cookie = client.get("/login").headers["Set-Cookie"]
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}


def test_the_users_commands_end_sessions(app, client, demo):
    sign_in(client, "engineer")
    copied = session_cookie(client)
    runner = app.test_cli_runner()

    answer = runner.invoke(args=["users", "set-password", DEMO_EMAILS["engineer"], "--password", "short"])
    assert answer.exit_code != 0 and "at least 12 characters" in answer.output
    assert opens_cases(app, copied)
    answer = runner.invoke(args=["users", "deactivate", "nobody@northwind.example"])
    assert answer.exit_code != 0 and "No user has the e-mail" in answer.output

    answer = runner.invoke(args=["users", "deactivate", DEMO_EMAILS["engineer"]])
    assert answer.exit_code == 0, answer.output
    assert not opens_cases(app, copied)


@pytest.fixture
def second_process(app, tmp_path):
    """Another web process of the same installation: its own application, the same database."""
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]},
                       instance_path=str(tmp_path))
    other.extensions["outbox_dispatch"] = app.extensions["outbox_dispatch"]
    yield other
    with other.app_context():
        db.engine.dispose()


def test_a_session_is_the_same_in_every_web_process(app, client, demo, second_process):
    sign_in(client, "engineer")
    copied = session_cookie(client)
    elsewhere = second_process.test_client()
    elsewhere.set_cookie("session", copied)
    page = elsewhere.get("/cases")
    assert page.status_code == 200

    assert elsewhere.post("/logout", data={"csrf_token": csrf_token(text(page))}).status_code == 302
    assert not opens_cases(app, copied)
