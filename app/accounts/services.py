"""Sign-in, throttling, personal API tokens and certification extensions."""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from app import access
from app.accounts.models import ApiToken, Certification, LoginFailure, User
from app.accounts.passwords import hash_password, needs_rehash, verify_password
from app.audit.services import record
from app.clock import now
from app.uow import unit_of_work
from app.errors import NotFound, TooManyAttempts, Unauthorized
from app.extensions import db

TOKEN_PREFIX = "gtac_"


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(email: str, password: str, remote_addr: str | None) -> User:
    """The active user with these credentials, or Unauthorized / TooManyAttempts.

    Throttled per e-mail and per client address, counted over a sliding window.
    A refused attempt is recorded even though the caller gets an error.
    """
    email = (email or "").strip().lower()
    config = current_app.config
    window_start = now() - timedelta(seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"])
    with unit_of_work() as uow:
        by_email, by_addr = uow.session.execute(
            sa.select(
                sa.func.count().filter(LoginFailure.email == email),
                sa.func.count().filter(LoginFailure.remote_addr == remote_addr),
            ).where(LoginFailure.at >= window_start,
                    sa.or_(LoginFailure.email == email, LoginFailure.remote_addr == remote_addr))
        ).one()
        limit = config["LOGIN_MAX_FAILURES"]
        if by_email >= limit or (remote_addr and by_addr >= limit * 10):
            raise TooManyAttempts(
                "Too many failed sign-in attempts. Try again later.",
                details={"retry_after_seconds": config["LOGIN_FAILURE_WINDOW_SECONDS"]},
            )
        user = uow.session.scalars(sa.select(User).where(User.email == email)).one_or_none()
        if user is not None and verify_password(user.password_hash, password) and user.active:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            uow.session.execute(sa.delete(LoginFailure).where(LoginFailure.email == email))
            return user
        uow.session.add(LoginFailure(email=email[:254], remote_addr=remote_addr))
    raise Unauthorized("Wrong e-mail or password.", code="invalid_credentials")


def issue_token(user: User, name: str | None) -> tuple[str, ApiToken]:
    """A new personal token; the secret is returned once and stored only as a digest."""
    access.require(user, "token.issue")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work() as uow:
        token = ApiToken(user_id=user.id, digest=token_digest(secret), name=name or "API token")
        uow.session.add(token)
        uow.session.flush()
        record(user, "api_token", token.id, "token.issued", after={"name": token.name})
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


def user_for_token(secret: str) -> User | None:
    """The active owner of a live token: one indexed lookup by digest, no KDF."""
    query = (sa.select(User).join(ApiToken, ApiToken.user_id == User.id)
             .where(ApiToken.digest == token_digest(secret), ApiToken.revoked_at.is_(None),
                    User.active.is_(True)))
    return db.session.scalars(query).one_or_none()


def load_user(user_id: str) -> User | None:
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


def extend_certifications(product_family: str | None, days: int,
                          expiring_before: date | None = None) -> int:
    """Programme-wide extension of certification expiry dates; returns how many moved."""
    if days <= 0:
        raise ValueError("days must be positive")
    with unit_of_work() as uow:
        query = sa.select(Certification)
        if product_family:
            query = query.where(Certification.product_family == product_family)
        if expiring_before:
            query = query.where(Certification.expires_on < expiring_before)
        moved = 0
        for certification in uow.session.scalars(query):
            before = certification.expires_on
            certification.expires_on = before + timedelta(days=days)
            record(None, "certification", certification.id, "certification.extended",
                   before={"expires_on": before.isoformat()},
                   after={"expires_on": certification.expires_on.isoformat()})
            moved += 1
        return moved
