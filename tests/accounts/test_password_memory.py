"""Argon2 holds PASSWORD_MEMORY_COST for each hash it runs: a burst of sign-ins in one process runs at
most PASSWORD_HASHES_AT_ONCE hashes together, the others waiting, and every sign-in still gets its answer."""
from __future__ import annotations

import threading
import time

import pytest
from argon2 import PasswordHasher

from app.config import ConfigError, load_config
from tests.conftest import DEMO_EMAILS, basic

SIGN_INS = 8


@pytest.mark.parametrize("at_once", [1, 2])
def test_a_burst_of_sign_ins_runs_no_more_hashes_at_once_than_allowed(app, demo, monkeypatch, at_once):
    monkeypatch.setitem(app.config, "PASSWORD_HASHES_AT_ONCE", at_once)
    monkeypatch.delitem(app.extensions, "password_hash_slots", raising=False)
    lock, running, most = threading.Lock(), [0], [0]
    real_verify = PasswordHasher.verify

    def counted(hasher, hash_, password):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)  # long enough for the other sign-ins to arrive meanwhile
            return real_verify(hasher, hash_, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    answers: list[int] = []
    start = threading.Barrier(SIGN_INS)

    def sign_in(number: int) -> None:
        client = app.test_client()
        start.wait()
        # Basic credentials on the token endpoint: one password check per request.
        answer = client.post("/api/v1/tokens", json={"name": f"burst {number}"},
                             headers=basic(DEMO_EMAILS["engineer"]))
        with lock:
            answers.append(answer.status_code)

    threads = [threading.Thread(target=sign_in, args=(n,)) for n in range(SIGN_INS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    monkeypatch.delitem(app.extensions, "password_hash_slots", raising=False)

    assert answers == [201] * SIGN_INS
    assert most[0] == at_once


def test_the_number_of_hashes_at_once_must_be_at_least_one(tmp_path):
    with pytest.raises(ConfigError, match="PASSWORD_HASHES_AT_ONCE must be at least 1, got 0"):
        load_config(str(tmp_path), {"GTAC_ENV": "testing", "PASSWORD_HASHES_AT_ONCE": "0"})
