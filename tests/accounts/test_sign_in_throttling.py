"""Sign-in throttling: nobody locks out a correct password they do not share an address with.

Sign-in goes through POST /api/v1/tokens (HTTP Basic); the client address is the test client's
REMOTE_ADDR, or, behind TRUSTED_PROXIES, what the proxy put in X-Forwarded-For.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app import create_app
from app.clock import FixedClock, SystemClock
from app.extensions import db
from tests.api.conftest import assert_error
from tests.conftest import DEMO_EMAILS, basic

ENGINEER = DEMO_EMAILS["engineer"]
OFFICE = "203.0.113.7"  # e.g. a company's proxy
HOME = "198.51.100.20"


def sign_in(client, email, password="demo-password", address=OFFICE, headers=None):
    return client.post("/api/v1/tokens", headers={**basic(email, password), **(headers or {})},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def clock(app):
    fixed = FixedClock(datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc))
    app.extensions["clock"] = fixed
    yield fixed
    app.extensions["clock"] = SystemClock()


def test_fifty_failures_on_made_up_emails_lock_no_real_account(client, demo):
    for n in range(50):
        assert_error(sign_in(client, f"nobody{n}@example.com", "guess"), 401, "invalid_credentials")

    assert sign_in(client, ENGINEER, address=OFFICE).status_code == 201
    assert sign_in(client, DEMO_EMAILS["admin"], address=OFFICE).status_code == 201
    assert sign_in(client, DEMO_EMAILS["gtac"], address=HOME).status_code == 201


def test_wrong_passwords_lock_that_account_at_that_address_only_and_for_a_while(app, client, demo, clock):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert_error(sign_in(client, ENGINEER, "guess", address=OFFICE), 401, "invalid_credentials")

    error = assert_error(sign_in(client, ENGINEER, address=OFFICE), 429, "too_many_attempts")
    assert error["details"]["retry_after_seconds"] == app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    # The account's owner elsewhere, and the other users at this address, sign in as usual.
    assert sign_in(client, ENGINEER, address=HOME).status_code == 201
    assert sign_in(client, DEMO_EMAILS["admin"], address=OFFICE).status_code == 201

    clock.advance(seconds=app.config["LOGIN_FAILURE_WINDOW_SECONDS"] - 1)
    assert_error(sign_in(client, ENGINEER, address=OFFICE), 429, "too_many_attempts")
    clock.advance(seconds=2)
    assert sign_in(client, ENGINEER, address=OFFICE).status_code == 201


def test_a_sign_in_clears_the_count_of_its_own_address_only(app, client, demo):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        sign_in(client, ENGINEER, "typo", address=HOME)
        sign_in(client, ENGINEER, "guess", address=OFFICE)
    assert sign_in(client, ENGINEER, address=HOME).status_code == 201

    assert sign_in(client, ENGINEER, "typo again", address=HOME).status_code == 401
    assert sign_in(client, ENGINEER, "guess", address=OFFICE).status_code == 401
    assert_error(sign_in(client, ENGINEER, address=OFFICE), 429, "too_many_attempts")
    assert sign_in(client, ENGINEER, address=HOME).status_code == 201


def test_guessing_spread_over_many_addresses_locks_the_account_for_one_window(app, client, demo, clock,
                                                                                monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_MAX_FAILURES", 12)
    per_address = app.config["LOGIN_MAX_FAILURES"]
    addresses = [f"192.0.2.{n}" for n in range(1, 5)]
    failures = 0
    for address in addresses:
        for _ in range(per_address + 2):  # refused attempts past the address's limit do not count
            answer = sign_in(client, ENGINEER, "guess", address=address)
            failures += answer.status_code == 401
            if failures == 12:
                break
        if failures == 12:
            break
    assert failures == 12

    assert_error(sign_in(client, ENGINEER, address=HOME), 429, "too_many_attempts")
    assert sign_in(client, DEMO_EMAILS["admin"], address=HOME).status_code == 201
    clock.advance(seconds=app.config["LOGIN_FAILURE_WINDOW_SECONDS"] + 1)
    assert sign_in(client, ENGINEER, address=HOME).status_code == 201


def test_an_unknown_email_is_throttled_like_a_known_one(app, client, demo):
    limit = app.config["LOGIN_MAX_FAILURES"]
    answers = {}
    for email in (ENGINEER, "no-such-user@northwind.example"):
        codes = [sign_in(client, email, "guess").status_code for _ in range(limit + 1)]
        last = sign_in(client, email, "guess")
        error = {key: value for key, value in last.json["error"].items() if key != "request_id"}
        answers[email] = (codes, last.status_code, error)
    known, unknown = answers.values()
    assert known == unknown
    assert known[0] == [401] * limit + [429]


def test_forwarded_addresses_count_only_behind_trusted_proxies(app, client, demo, tmp_path):
    limit = app.config["LOGIN_MAX_FAILURES"]
    # Not trusted by default: a client cannot escape its count by inventing X-Forwarded-For.
    for n in range(limit):
        sign_in(client, ENGINEER, "guess", headers={"X-Forwarded-For": f"192.0.2.{n}"})
    assert_error(sign_in(client, ENGINEER, headers={"X-Forwarded-For": "192.0.2.99"}), 429,
                 "too_many_attempts")

    behind_proxy = create_app({"TRUSTED_PROXIES": 1, "PROPAGATE_EXCEPTIONS": True,
                               "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]},
                              instance_path=str(tmp_path))
    behind_proxy.extensions["outbox_dispatch"] = app.extensions["outbox_dispatch"]
    proxied = behind_proxy.test_client()
    try:
        # Everyone comes from the proxy's address; the count is the forwarded client's.
        for _ in range(limit):
            sign_in(proxied, DEMO_EMAILS["admin"], "guess", headers={"X-Forwarded-For": "192.0.2.50"})
        assert_error(sign_in(proxied, DEMO_EMAILS["admin"], headers={"X-Forwarded-For": "192.0.2.50"}),
                     429, "too_many_attempts")
        answer = sign_in(proxied, DEMO_EMAILS["admin"], headers={"X-Forwarded-For": "192.0.2.51"})
        assert answer.status_code == 201
        # A client's own X-Forwarded-For entry is not believed: only the last hop's is.
        answer = sign_in(proxied, DEMO_EMAILS["admin"],
                         headers={"X-Forwarded-For": "192.0.2.51, 192.0.2.50"})
        assert_error(answer, 429, "too_many_attempts")
    finally:
        with behind_proxy.app_context():
            db.engine.dispose()


def test_every_web_process_counts_the_same_failures(app, client, demo, tmp_path):
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]},
                       instance_path=str(tmp_path))
    other.extensions["outbox_dispatch"] = app.extensions["outbox_dispatch"]
    processes = [client, other.test_client()]
    try:
        for n in range(app.config["LOGIN_MAX_FAILURES"]):
            assert sign_in(processes[n % 2], ENGINEER, "guess").status_code == 401
        for process in processes:
            assert_error(sign_in(process, ENGINEER), 429, "too_many_attempts")
    finally:
        with other.app_context():
            db.engine.dispose()
