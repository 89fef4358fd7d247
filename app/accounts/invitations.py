"""Inviting a user: the account is made without a password, and an e-mailed single-use link lets
its owner choose one. `invite_user` is the one way to create an invited user; the pages, the API
and bulk imports all call it inside their own unit of work, after asking app.access."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.accounts.links import issue_link, use_link
from app.accounts.mail import queue_link_email
from app.accounts.models import GTAC_ROLES, LinkPurpose, Organisation, OrgKind, PARTNER_ROLES, Role, User
from app.accounts.passwords import hash_password
from app.accounts.services import check_password_policy, end_sessions
from app.audit.services import record
from app.errors import Conflict, InvalidInput, RuleViolation
from app.uow import UnitOfWork, unit_of_work

# Which roles the users of each kind of organisation may hold.
ROLES_BY_KIND = {
    OrgKind.VENDOR: GTAC_ROLES | {Role.PROGRAMS, Role.VENDOR_ADMIN},
    OrgKind.PARTNER: PARTNER_ROLES,
    OrgKind.CUSTOMER: frozenset({Role.CUSTOMER}),
}
ROLE_ORDER = list(Role)
# Deliberately loose: the invitation e-mail is the real test of an address.
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+", re.ASCII)
MAX_EMAIL_LENGTH = 254


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def roles_for(organisation: Organisation) -> list[Role]:
    return [role for role in ROLE_ORDER if role in ROLES_BY_KIND[organisation.kind]]


def check_role_fits(organisation: Organisation, role: Role) -> None:
    if role not in ROLES_BY_KIND[organisation.kind]:
        allowed = ", ".join(r.value for r in roles_for(organisation))
        raise RuleViolation(f"A user of {organisation.name} can be {allowed}, not {role.value}.",
                            code="role_not_for_organisation", details={"fields": {"role": [f"One of {allowed}."]}})


def check_email_free(session, email: str) -> None:
    if session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"The e-mail {email} is already used by another account.", code="email_taken",
                       details={"fields": {"email": ["Already used by another account."]}})


def invite_user(uow: UnitOfWork, *, email: str, name: str, organisation: Organisation, role: Role,
                invited_by: User | None) -> User:
    """A new active user of `organisation` with no password yet, and its invitation e-mail queued.

    Works in the caller's unit (a bulk import invites many users in one). It checks the domain's
    rules (the role fits the kind of organisation, the e-mail is free) but not who may invite whom:
    callers ask app.access first (access.administered_organisation). Returns the flushed user.
    """
    email = normalise_email(email)
    name = (name or "").strip()
    fields = {}
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL.fullmatch(email):
        fields["email"] = ["Not an e-mail address."]
    if not name or len(name) > 200:
        fields["name"] = ["A name of 1 to 200 characters."]
    if fields:
        raise InvalidInput("The invitation has invalid or missing fields.", details={"fields": fields})
    check_role_fits(organisation, role)
    check_email_free(uow.session, email)
    user = User(email=email, name=name, organisation_id=organisation.id, role=role, password_hash=None,
                active=True)
    uow.session.add(user)
    uow.session.flush()
    record(invited_by, "user", user.id, "user.invited",
           after={"email": email, "name": name, "role": role.value, "organisation_id": organisation.id})
    send_invitation(uow, user)
    return user


def send_invitation(uow: UnitOfWork, user: User) -> None:
    """A fresh invitation link for the user (an earlier unused one stops working), e-mailed after the commit."""
    secret, link = issue_link(uow, user, LinkPurpose.INVITATION)
    queue_link_email(uow, link, secret)


def accept_invitation(secret: str, password: str) -> User:
    """Set the invited user's password; the link is spent and any session of the user ends."""
    check_password_policy(password)
    password_hash = hash_password(password)  # before the transaction: it takes a while
    with unit_of_work() as uow:
        user = use_link(uow, secret, LinkPurpose.INVITATION)
        user.password_hash = password_hash
        record(user, "user", user.id, "user.invitation_accepted")
        end_sessions(uow, user.id)
        return user
