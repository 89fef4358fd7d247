"""The partner programme's rebates (SPEC §11): the programmes team runs them, partners see their own.

A partner's users (admin and engineer) see their own organisation's targets, sales and
attainment; another partner's are not found (404). Other roles may not ask (403).
"""
from __future__ import annotations

import sqlalchemy as sa

from app.access.roles import PERMISSIONS
from app.accounts.models import PARTNER_ROLES, Organisation, OrgKind, Role, User
from app.errors import NotFound
from app.extensions import db
from app.programmes.models import Sale

PROGRAMME_STAFF = frozenset({Role.PROGRAMS})
PERMISSIONS.update({
    "programme.manage": PROGRAMME_STAFF,
    "programme.read": PROGRAMME_STAFF | PARTNER_ROLES,
    "sales.import": PROGRAMME_STAFF,
    "attainment.read": PROGRAMME_STAFF | PARTNER_ROLES,
})


def programme_partners(user: User) -> sa.Select:
    """The partner organisations whose attainment the caller may see: its own, or all for staff."""
    query = sa.select(Organisation).where(Organisation.kind == OrgKind.PARTNER)
    if user.role in PARTNER_ROLES:
        return query.where(Organisation.id == user.organisation_id)
    if user.role in PROGRAMME_STAFF:
        return query
    return query.where(sa.false())


def get_programme_partner(user: User, partner_id: int) -> Organisation:
    partner = db.session.scalars(programme_partners(user).where(Organisation.id == partner_id)).one_or_none()
    if partner is None:
        raise NotFound(f"Partner {partner_id} not found.", code="partner_not_found")
    return partner


def own_partner(user: User) -> int | None:
    """The partner a partner's user acts for; None for the programmes team."""
    return user.organisation_id if user.role in PARTNER_ROLES else None


def visible_sales(user: User) -> sa.Select:
    partners = programme_partners(user).with_only_columns(Organisation.id)
    return sa.select(Sale).where(Sale.partner_id.in_(partners.scalar_subquery()))
