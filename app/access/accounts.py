"""Accounts: API tokens, user administration, and the partner on whose behalf a partner's user acts.

A partner's admin administers the users of its own organisation and of the customers it serves;
the vendor's admin those of every organisation (SPEC §2). Anyone else administers nobody.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.access.roles import ALL_ROLES, PERMISSIONS, require
from app.accounts.models import PARTNER_ROLES, Organisation, Role, User
from app.errors import Forbidden, NotFound, RuleViolation
from app.extensions import db

USER_ADMINS = frozenset({Role.PARTNER_ADMIN, Role.VENDOR_ADMIN})
PERMISSIONS.update({
    "token.issue": ALL_ROLES,
    "password.change": ALL_ROLES,
    "user.manage": USER_ADMINS,
})


def acting_partner(user: User) -> int:
    """The partner organisation that what a partner's user creates belongs to: always its own."""
    if user.role not in PARTNER_ROLES:
        raise Forbidden("Only a partner's users act for a partner.", code="role_not_allowed",
                        details={"role": user.role.value})
    return user.organisation_id


def administered_organisation_ids(admin: User) -> sa.Select:
    """Ids of the organisations whose users `admin` administers."""
    if admin.role is Role.VENDOR_ADMIN:
        return sa.select(Organisation.id)
    if admin.role is Role.PARTNER_ADMIN:
        return sa.select(Organisation.id).where(sa.or_(Organisation.id == admin.organisation_id,
                                                       Organisation.partner_id == admin.organisation_id))
    return sa.select(Organisation.id).where(sa.false())


def administered_user_scope(admin: User) -> sa.ColumnElement[bool]:
    if admin.role is Role.VENDOR_ADMIN:
        return sa.true()
    return User.organisation_id.in_(administered_organisation_ids(admin).scalar_subquery())


def administered_users(admin: User) -> sa.Select:
    """The users `admin` may list and manage (403 for a role that administers nobody)."""
    require(admin, "user.manage")
    return sa.select(User).where(administered_user_scope(admin))


def get_administered_user(admin: User, user_id: int, session=None) -> User:
    session = session or db.session
    user = session.scalars(administered_users(admin).where(User.id == user_id)).one_or_none()
    if user is None:
        raise NotFound(f"User {user_id} not found.", code="user_not_found")
    return user


def organisations_for_new_users(admin: User) -> list[Organisation]:
    """What the invitation form offers: the admin's own organisation first, then by name."""
    require(admin, "user.manage")
    query = (sa.select(Organisation).where(Organisation.id.in_(administered_organisation_ids(admin).scalar_subquery()))
             .order_by(Organisation.id != admin.organisation_id, Organisation.name))
    return list(db.session.scalars(query))


def administered_organisation(admin: User, organisation_id: int | None, session=None) -> Organisation:
    """The organisation a new user joins: the admin's own when none is named. One the admin does not
    administer is refused as unknown, whether or not it exists."""
    require(admin, "user.manage")
    session = session or db.session
    wanted = admin.organisation_id if organisation_id is None else organisation_id
    organisation = session.scalars(sa.select(Organisation).where(
        Organisation.id == wanted,
        Organisation.id.in_(administered_organisation_ids(admin).scalar_subquery()))).one_or_none()
    if organisation is None:
        raise RuleViolation(f"No organisation {wanted} that you administer.", code="organisation_not_found",
                            details={"fields": {"organisation_id": ["Not an organisation you administer."]}})
    return organisation
