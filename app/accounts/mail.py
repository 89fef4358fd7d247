"""The e-mails that carry an invitation or a password-reset link, sent through the outbox.

The outbox event carries the link's secret encrypted (ACCOUNT_LINK_ENCRYPTION_KEYS, or a key
derived from SECRET_KEY), never in clear: the database alone opens no account. The handler sends
nothing for a link that was used, replaced or has expired meanwhile.
"""
from __future__ import annotations

import logging

from cryptography.fernet import InvalidToken
from flask import current_app

from app import crypto
from app.accounts.models import AccountLink, LinkPurpose
from app.clock import now
from app.extensions import db
from app.notifications.mail import send_email
from app.uow import UnitOfWork

log = logging.getLogger(__name__)

TOPICS = {LinkPurpose.INVITATION: "notify.account_invitation",
          LinkPurpose.PASSWORD_RESET: "notify.password_reset"}
PATHS = {LinkPurpose.INVITATION: "/invitations/", LinkPurpose.PASSWORD_RESET: "/password-reset/"}


def _cipher():
    return crypto.cipher("ACCOUNT_LINK_ENCRYPTION_KEYS", "account-links")


def queue_link_email(uow: UnitOfWork, link: AccountLink, secret: str) -> None:
    """Send the link's e-mail once the caller's unit commits."""
    uow.emit(TOPICS[link.purpose], {"link_id": link.id, "secret": _cipher().encrypt(secret.encode()).decode()})


def link_url(purpose: LinkPurpose, secret: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + PATHS[purpose] + secret


def _live_link(payload: dict) -> tuple[AccountLink, str] | None:
    link = db.session.get(AccountLink, payload["link_id"])
    if link is None or link.used_at is not None or link.expires_at <= now() or not link.user.active:
        return None
    try:
        secret = _cipher().decrypt(payload["secret"].encode()).decode()
    except InvalidToken:
        log.error("account link %s: no configured key decrypts its secret; nothing sent", link.id)
        return None
    return link, secret


def on_invitation(uow: UnitOfWork, payload: dict) -> None:
    found = _live_link(payload)
    if found is None:
        return
    link, secret = found
    user = link.user
    send_email(uow, [user.email], f"You are invited to GTAC Triage ({user.organisation.name})",
               f"Hello {user.name},\n\nYou have been given an account of {user.organisation.name} on GTAC Triage. "
               f"Choose your password here to start:\n\n{link_url(link.purpose, secret)}\n\n"
               f"The link works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC.\n")


def on_password_reset(uow: UnitOfWork, payload: dict) -> None:
    found = _live_link(payload)
    if found is None:
        return
    link, secret = found
    send_email(uow, [link.user.email], "Reset your GTAC Triage password",
               f"Hello {link.user.name},\n\nSomeone, probably you, asked to reset your GTAC Triage password. "
               f"Choose a new one here:\n\n{link_url(link.purpose, secret)}\n\n"
               f"The link works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC. If you did not ask, ignore "
               "this e-mail: your password stays as it is.\n")


HANDLERS = {
    TOPICS[LinkPurpose.INVITATION]: on_invitation,
    TOPICS[LinkPurpose.PASSWORD_RESET]: on_password_reset,
}
