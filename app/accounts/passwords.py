"""Argon2id password hashing. API tokens never go through this: see tokens."""
from __future__ import annotations

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


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
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
