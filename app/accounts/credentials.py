"""A user's own password: changing it knowing the current one, or resetting it by an e-mailed link."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.invitations import normalise_email
from app.accounts.links import issue_link, use_link
from app.accounts.mail import queue_link_email
from app.accounts.models import LinkPurpose, User
from app.accounts.passwords import hash_password, verify_password
from app.accounts.services import check_password_policy, end_sessions
from app.audit.services import record
from app.errors import InvalidInput
from app.uow import unit_of_work


def change_password(user: User, current_password: str, new_password: str) -> User:
    """A new password for the signed-in user, who proves the current one. Every web session of the
    user ends (the page that asked signs its browser in again); API tokens stay."""
    check_password_policy(new_password, field="new_password")
    matches = verify_password(user.password_hash, current_password)  # slow: outside the transaction
    if not matches:
        raise InvalidInput("The current password is wrong.", code="wrong_password",
                           details={"fields": {"current_password": ["Wrong password."]}})
    if current_password == new_password:
        raise InvalidInput("The new password is the current one.",
                           details={"fields": {"new_password": ["Choose a password you do not use yet."]}})
    password_hash = hash_password(new_password)
    with unit_of_work() as uow:
        changed = uow.session.get(User, user.id)
        changed.password_hash = password_hash
        record(user, "user", user.id, "user.password_changed")
        end_sessions(uow, user.id)
        return changed


def request_password_reset(email: str) -> None:
    """E-mail a reset link to the active account with this address, if there is one. The caller
    answers the same either way, so the form tells nobody which addresses have accounts."""
    email = normalise_email(email)[:254]
    with unit_of_work() as uow:
        user = uow.session.scalars(sa.select(User).where(User.email == email, User.active.is_(True))).one_or_none()
        if user is None:
            return
        secret, link = issue_link(uow, user, LinkPurpose.PASSWORD_RESET)
        queue_link_email(uow, link, secret)
        record(None, "user", user.id, "user.password_reset_requested")


def reset_password(secret: str, new_password: str) -> User:
    """Set a new password through a reset link; the link is spent and every session of the user ends."""
    check_password_policy(new_password)
    password_hash = hash_password(new_password)
    with unit_of_work() as uow:
        user = use_link(uow, secret, LinkPurpose.PASSWORD_RESET)
        user.password_hash = password_hash
        record(user, "user", user.id, "user.password_reset")
        end_sessions(uow, user.id)
        return user
