"""An unknown e-mail costs the same password hash as a known one, so timing tells no account apart."""
from __future__ import annotations

import statistics
import time

import pytest
from argon2 import PasswordHasher

from app.accounts import passwords
from app.accounts.models import User
from app.accounts.services import authenticate
from app.errors import Unauthorized
from app.extensions import db
from tests.conftest import DEMO_EMAILS, basic


def test_an_unknown_email_is_checked_against_the_dummy_hash(app, demo, monkeypatch):
    checked = []
    real_verify = PasswordHasher.verify

    def spy(hasher, hash_, password):
        checked.append(hash_)
        return real_verify(hasher, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    with app.test_request_context():
        _, dummy = passwords._hasher()
        with pytest.raises(Unauthorized):
            authenticate("no-such-user@northwind.example", "demo-password", "192.0.2.1")
        with pytest.raises(Unauthorized):
            authenticate(DEMO_EMAILS["engineer"], "not-the-password", "192.0.2.1")
        engineer_hash = db.session.get(User, demo["engineer"].id).password_hash
        db.session.remove()
    assert checked == [dummy, engineer_hash]


def test_known_and_unknown_emails_take_the_same_time(app, client, demo, monkeypatch):
    # A production-like cost, so that the hash (and not the noise of a shared machine) is what
    # a known e-mail's answer would spend its time on.
    monkeypatch.setitem(app.config, "PASSWORD_TIME_COST", 2)
    monkeypatch.setitem(app.config, "PASSWORD_MEMORY_COST", 32768)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 100)
    with app.app_context():
        db.session.get(User, demo["engineer"].id).password_hash = passwords.hash_password("demo-password")
        db.session.commit()
        db.session.remove()

    def timed(email: str) -> float:
        started = time.perf_counter()
        answer = client.post("/api/v1/tokens", headers=basic(email, "not-the-password"))
        elapsed = time.perf_counter() - started
        assert answer.status_code == 401
        return elapsed

    timed(DEMO_EMAILS["engineer"])  # warm-up: the dummy hash is made on first use
    known, unknown = [], []
    for n in range(11):
        known.append(timed(DEMO_EMAILS["engineer"]))
        unknown.append(timed(f"nobody{n}@northwind.example"))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    assert known_median > 0.005, "the hash should dominate the answer's time"
    # Generous, for a busy machine: without the dummy hash an unknown e-mail answers many times faster.
    assert abs(known_median - unknown_median) <= 0.4 * max(known_median, unknown_median), (
        known_median, unknown_median)
