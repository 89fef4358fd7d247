"""Argon2id password hashing. API tokens never go through this: see tokens.

Each hash holds PASSWORD_MEMORY_COST (64 MiB by default) while it runs. A web process
serves many threads, so a burst of sign-ins (or of guesses) would otherwise hold that
much per thread at once; at most PASSWORD_HASHES_AT_ONCE run together in a process, and
the others wait their turn.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_PASSWORD = "not-a-real-password"


def _hasher() -> tuple[PasswordHasher, str]:
    """The configured hasher and a hash of a dummy password made with it."""
    config = current_app.config
    key = (config["PASSWORD_TIME_COST"], config["PASSWORD_MEMORY_COST"])
    cache = current_app.extensions.setdefault("password_hashers", {})
    if key not in cache:
        hasher = PasswordHasher(time_cost=key[0], memory_cost=key[1])
        cache[key] = (hasher, hasher.hash(_DUMMY_PASSWORD))
    return cache[key]


@contextmanager
def _slot():
    """One of the process's PASSWORD_HASHES_AT_ONCE turns at the KDF."""
    extensions = current_app.extensions
    slots = extensions.get("password_hash_slots")
    if slots is None:
        slots = extensions.setdefault("password_hash_slots",
                                      threading.BoundedSemaphore(current_app.config["PASSWORD_HASHES_AT_ONCE"]))
    with slots:
        yield


def hash_password(password: str) -> str:
    hasher = _hasher()[0]
    with _slot():
        return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        with _slot():
            hasher.verify(password_hash or dummy, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)


# The one password policy: sign-up by invitation, a reset, a change and `flask users set-password`.
MIN_PASSWORD_LENGTH = 12
# Far above any passphrase; it bounds what one request can make the KDF chew on.
MAX_PASSWORD_LENGTH = 1000


def password_problem(password: str) -> str | None:
    """Why the password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"A password has at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"A password has at most {MAX_PASSWORD_LENGTH} characters."
    return None
