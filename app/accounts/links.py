"""Single-use links e-mailed to a user: an invitation, a password reset.

The secret goes out in the e-mail and is kept here only as its SHA-256 digest, like API
tokens, so reading the table opens no account. A link opens once, until it expires
(INVITATION_LINK_HOURS, PASSWORD_RESET_LINK_HOURS: 24 by default); a newer link of the
same purpose replaces an unused older one.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import AccountLink, LinkPurpose, User
from app.clock import now
from app.errors import DomainError, NotFound
from app.uow import UnitOfWork

LIFETIME_SETTINGS = {LinkPurpose.INVITATION: "INVITATION_LINK_HOURS",
                     LinkPurpose.PASSWORD_RESET: "PASSWORD_RESET_LINK_HOURS"}
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_SECRET_LENGTH = 64


class LinkGone(DomainError):
    """The link was ours, but it was used already or has expired."""

    status = 410
    code = "link_gone"


def link_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_link(uow: UnitOfWork, user: User, purpose: LinkPurpose) -> tuple[str, AccountLink]:
    """A new link for the user, in the caller's unit; returns its secret (never stored) and the row."""
    uow.session.execute(sa.delete(AccountLink).where(AccountLink.user_id == user.id, AccountLink.purpose == purpose,
                                                     AccountLink.used_at.is_(None)))
    secret = secrets.token_urlsafe(32)
    issued = now()
    hours = current_app.config[LIFETIME_SETTINGS[purpose]]
    link = AccountLink(user_id=user.id, purpose=purpose, digest=link_digest(secret), created_at=issued,
                       expires_at=issued + timedelta(hours=hours))
    uow.session.add(link)
    uow.session.flush()
    return secret, link


def open_link(session, secret: str, purpose: LinkPurpose) -> AccountLink:
    """The live link with this secret, or a refusal that says why it opens nothing."""
    link = None
    if secret and len(secret) <= MAX_SECRET_LENGTH:
        link = session.scalars(sa.select(AccountLink).where(AccountLink.digest == link_digest(secret),
                                                            AccountLink.purpose == purpose)).one_or_none()
    what = "invitation" if purpose is LinkPurpose.INVITATION else "password reset link"
    if link is None or not link.user.active:
        raise NotFound(f"This {what} is not valid: it may have been replaced by a newer one, or the account "
                       "was deactivated.", code="link_not_found")
    if link.used_at is not None:
        raise LinkGone(f"This {what} has been used already. Sign in, or ask for a new one.", code="link_used")
    if link.expires_at <= now():
        raise LinkGone(f"This {what} expired at {link.expires_at:%Y-%m-%d %H:%M} UTC. Ask for a new one.",
                       code="link_expired")
    return link


def use_link(uow: UnitOfWork, secret: str, purpose: LinkPurpose) -> User:
    """Spend the link in the caller's unit: it and every other unused link of its user stop opening."""
    link = open_link(uow.session, secret, purpose)
    spent = uow.session.execute(sa.update(AccountLink).where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
                                .values(used_at=now()))
    if spent.rowcount != 1:  # another request spent it between our read and our write
        raise LinkGone("This link has been used already.", code="link_used")
    uow.session.execute(sa.delete(AccountLink).where(AccountLink.user_id == link.user_id,
                                                     AccountLink.used_at.is_(None)))
    return link.user
