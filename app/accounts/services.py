"""Sign-in, throttling, personal API tokens and certification extensions."""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from app import access
from app.accounts.eligibility import sign_in_refusal
from app.accounts.models import AccountLink, ApiToken, Certification, LoginFailure, User, WebSession
from app.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from app.audit.services import record
from app.bounds import LATEST_DAY
from app.clock import now
from app.uow import UnitOfWork, unit_of_work
from app.errors import InvalidInput, NotFound, TooManyAttempts, Unauthorized
from app.extensions import db

TOKEN_PREFIX = "gtac_"
# How stale a token's last_used_at may get: a busy integration writes it once a minute, not every request.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
# The most a programme-wide extension moves certifications' expiry dates at once (about ten years).
LONGEST_EXTENSION_DAYS = 3660
log = logging.getLogger(__name__)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(email: str, password: str, remote_addr: str | None) -> User:
    """The user with these credentials, or Unauthorized / TooManyAttempts; Forbidden with the
    reason for the right password of a user who may not sign in (app/accounts/eligibility.py).

    Sign-in throttling, designed so that nobody can lock out people they do not share a
    browser with. Failed sign-ins are rows of `login_failures` (e-mail, client address, time),
    so every web process and every worker sees the same counts, on SQLite and PostgreSQL
    alike; only the last LOGIN_FAILURE_WINDOW_SECONDS count, and older rows are purged.

    - Per account and client address: after LOGIN_MAX_FAILURES failures on one e-mail from one
      address, that address is refused for that e-mail (429, even with the right password,
      or guessing would go on) until the failures age out of the window. The same person at
      another address, and everyone else at this one, are untouched.
    - Per account, from every address: LOGIN_ACCOUNT_MAX_FAILURES failures on one e-mail
      refuse it everywhere until they age out, against guessing spread over many addresses.
      Refused attempts are not failures, so one address adds at most LOGIN_MAX_FAILURES to
      this count: locking an account takes many addresses, and lasts one window at most.
    - Per client address, across e-mails: never a refusal. One address failing on many
      e-mails is either password spraying or a proxy many users share; refusing it would
      refuse every correct password behind that proxy, so it is logged once it passes
      LOGIN_ADDRESS_MAX_FAILURES instead. Behind a proxy, set TRUSTED_PROXIES so that the
      address is the client's own.

    A sign-in resets only its own account-and-address count. Unknown e-mails cost the same
    password hash as known ones and are counted the same way, so neither the time taken nor
    the answer tells whether an account exists.
    """
    email = (email or "").strip().lower()[:254]
    address = (remote_addr or "")[:64] or None
    config = current_app.config
    window_start = now() - timedelta(seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"])
    same_address = (LoginFailure.remote_addr == address if address is not None
                    else LoginFailure.remote_addr.is_(None))
    with unit_of_work() as uow:
        pair, account, from_address = uow.session.execute(
            sa.select(
                sa.func.count().filter(LoginFailure.email == email, same_address),
                sa.func.count().filter(LoginFailure.email == email),
                sa.func.count().filter(same_address),
            ).where(LoginFailure.at >= window_start, sa.or_(LoginFailure.email == email, same_address))
        ).one()
        if pair >= config["LOGIN_MAX_FAILURES"] or account >= config["LOGIN_ACCOUNT_MAX_FAILURES"]:
            raise TooManyAttempts(
                "Too many failed sign-in attempts. Try again later.",
                details={"retry_after_seconds": config["LOGIN_FAILURE_WINDOW_SECONDS"]},
            )
        user = uow.session.scalars(sa.select(User).where(User.email == email)).one_or_none()
    # Always hash, outside any transaction (it takes a while): an unknown e-mail is checked
    # against a dummy hash, as slow as a real one.
    checked = user.password_hash if user is not None else None
    matches = verify_password(checked, password)
    refusal = None
    with unit_of_work() as uow:
        if user is not None and matches:
            # The account as it is now: the hash took long enough for it to be deactivated, its partner
            # suspended or its password changed meanwhile (then the old one no longer signs in).
            user = uow.session.get(User, user.id, populate_existing=True)
            matches = user is not None and user.password_hash == checked
        if user is not None and matches:
            # The right password is no failure, even for a user who may not sign in now: they are
            # told why (deactivated, organisation suspended), which only the password's owner learns.
            uow.session.execute(sa.delete(LoginFailure).where(LoginFailure.email == email, same_address))
            refusal = sign_in_refusal(user)
            if refusal is None:
                if needs_rehash(user.password_hash):
                    uow.session.get(User, user.id).password_hash = hash_password(password)
                return user
        else:
            uow.session.add(LoginFailure(email=email, remote_addr=address, at=now()))
            uow.session.execute(sa.delete(LoginFailure).where(LoginFailure.at < window_start))
    if refusal is not None:
        raise refusal
    if from_address + 1 == config["LOGIN_ADDRESS_MAX_FAILURES"]:
        log.warning("sign-in: %s failures from %s in %s s over many e-mails: password spraying, or a "
                    "proxy whose clients all look alike (see TRUSTED_PROXIES)", from_address + 1,
                    address, config["LOGIN_FAILURE_WINDOW_SECONDS"])
    log.info("sign-in failed for %s from %s", email, address)
    raise Unauthorized("Wrong e-mail or password.", code="invalid_credentials")


def end_sessions(uow: UnitOfWork, user_id: int) -> int:
    """End every web session of the user, in the caller's unit; returns how many ended."""
    return uow.session.execute(sa.delete(WebSession).where(WebSession.user_id == user_id)).rowcount


def end_access(uow: UnitOfWork, user: User) -> None:
    """What deactivating a user ends at once, in the caller's unit: every web session, every API
    token (revoked, so that a later reactivation does not bring them back) and any unused link."""
    end_sessions(uow, user.id)
    uow.session.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                        .values(revoked_at=now()))
    uow.session.execute(sa.delete(AccountLink).where(AccountLink.user_id == user.id,
                                                     AccountLink.used_at.is_(None)))


def deactivate_user(email: str) -> User:
    """The user can no longer sign in or use a token, and every web session of theirs ends."""
    with unit_of_work() as uow:
        user = _user_by_email(uow, email)
        if user.active:
            user.active = False
            record(None, "user", user.id, "user.deactivated", before={"active": True},
                   after={"active": False})
        end_access(uow, user)
        return user


def check_password_policy(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise InvalidInput(problem, details={"fields": {field: [problem]}})


def set_password(email: str, password: str) -> User:
    """A new password for the user; every web session of theirs ends (API tokens stay)."""
    check_password_policy(password)
    password_hash = hash_password(password)  # before the transaction: it takes a while
    with unit_of_work() as uow:
        user = _user_by_email(uow, email)
        user.password_hash = password_hash
        record(None, "user", user.id, "user.password_changed")
        end_sessions(uow, user.id)
        return user


def _user_by_email(uow: UnitOfWork, email: str) -> User:
    email = (email or "").strip().lower()
    user = uow.session.scalars(sa.select(User).where(User.email == email)).one_or_none()
    if user is None:
        raise NotFound(f"No user has the e-mail {email}.", code="user_not_found")
    return user


def issue_token(user: User, name: str | None, expires_in_days: int | None = None) -> tuple[str, ApiToken]:
    """A new personal token; the secret is returned once and stored only as a digest."""
    access.require(user, "token.issue")
    refusal = sign_in_refusal(user)  # also from a web session begun before a suspension
    if refusal is not None:
        raise refusal
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    issued = now()
    expires_at = issued + timedelta(days=expires_in_days) if expires_in_days else None
    with unit_of_work() as uow:
        token = ApiToken(user_id=user.id, digest=token_digest(secret), name=name or "API token",
                         created_at=issued, expires_at=expires_at)
        uow.session.add(token)
        uow.session.flush()
        record(user, "api_token", token.id, "token.issued",
               after={"name": token.name, "expires_at": expires_at.isoformat() if expires_at else None})
    log.info("API token %s issued to user %s", token.id, user.id)
    return secret, token


def list_tokens(user: User) -> list[ApiToken]:
    query = sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    with unit_of_work() as uow:
        return list(uow.session.scalars(query))


def revoke_token(user: User, token_id: int) -> ApiToken:
    with unit_of_work() as uow:
        token = uow.session.scalars(sa.select(ApiToken).where(
            ApiToken.id == token_id, ApiToken.user_id == user.id)).one_or_none()
        if token is None:
            raise NotFound(f"Token {token_id} not found.", code="token_not_found")
        if token.revoked_at is None:
            token.revoked_at = now()
            record(user, "api_token", token.id, "token.revoked")
        return token


# Every API request asks it: built once (building the statement cost a fifth of the lookup).
_TOKEN_OWNER = (sa.select(User, ApiToken.id, ApiToken.expires_at, ApiToken.last_used_at)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.digest == sa.bindparam("digest"), ApiToken.revoked_at.is_(None),
                       User.active.is_(True)))


def user_for_token(secret: str) -> User | None:
    """The active owner of a live token: one indexed lookup by digest, no KDF.

    An expired token is refused with its own code, so that an integration can tell its owner
    to issue a new one. last_used_at is written only when it is older than TOKEN_USE_RESOLUTION.
    """
    row = db.session.execute(_TOKEN_OWNER, {"digest": token_digest(secret)}).one_or_none()
    if row is None:
        return None
    user, token_id, expires_at, last_used_at = row
    moment = now()
    if expires_at is not None and expires_at <= moment:
        raise Unauthorized(f"The API token expired at {expires_at.isoformat()}; issue a new one.",
                           code="token_expired")
    if last_used_at is None or last_used_at < moment - TOKEN_USE_RESOLUTION:
        # Its own short unit, committed before the request's work; the hot path above writes nothing.
        with unit_of_work() as uow:
            uow.session.execute(sa.update(ApiToken).where(
                ApiToken.id == token_id,
                sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < moment - TOKEN_USE_RESOLUTION))
                .values(last_used_at=moment))
    return user


def load_user(user_id: str) -> User | None:
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


def extend_certifications(product_family: str | None, days: int,
                          expiring_before: date | None = None, actor: User | None = None) -> int:
    """Programme-wide extension of certification expiry dates; returns how many moved.
    `actor` is who asked for it on a page or the API (none from the command line)."""
    if not 1 <= days <= LONGEST_EXTENSION_DAYS:
        raise ValueError(f"days must be from 1 to {LONGEST_EXTENSION_DAYS}")
    with unit_of_work() as uow:
        # Those expiring later already than any file may give need no extension, and could not take one.
        query = sa.select(Certification).where(Certification.expires_on <= LATEST_DAY)
        if product_family:
            query = query.where(sa.func.lower(Certification.product_family) == product_family.lower())
        if expiring_before:
            query = query.where(Certification.expires_on < expiring_before)
        moved = 0
        for certification in uow.session.scalars(query):
            before = certification.expires_on
            certification.expires_on = before + timedelta(days=days)
            record(actor, "certification", certification.id, "certification.extended",
                   before={"expires_on": before.isoformat()},
                   after={"expires_on": certification.expires_on.isoformat()})
            moved += 1
        return moved
