"""Partner status and training (SPEC §11): the programmes team changes it programme-wide; a partner's
users (admin and engineer) follow their own organisation's on its dashboard, another's is not found.

Which partners a caller sees is the rebates' rule (app.access.programmes.programme_partners).
"""
from __future__ import annotations

import sqlalchemy as sa

from app.access.programmes import PROGRAMME_STAFF, programme_partners
from app.access.roles import PERMISSIONS
from app.accounts.models import PARTNER_ROLES, Organisation, User
from app.errors import NotFound
from app.extensions import db

PERMISSIONS.update({
    "partner_status.read": PROGRAMME_STAFF | PARTNER_ROLES,
    "partner_status.read_all": PROGRAMME_STAFF,
    "partner_status.change": PROGRAMME_STAFF,
})


def get_partner_engineer(user: User, user_id: int, partner_id: int | None = None) -> User:
    """A partner's user (admin or engineer) of a partner the caller sees (of `partner_id` if given);
    anyone else is not found, so that the programmes team records trainings of partners' people only."""
    partners = programme_partners(user)
    if partner_id is not None:
        partners = partners.where(Organisation.id == partner_id)
    found = db.session.scalars(sa.select(User).where(
        User.id == user_id, User.role.in_(PARTNER_ROLES),
        User.organisation_id.in_(partners.with_only_columns(Organisation.id).scalar_subquery()))).one_or_none()
    if found is None:
        raise NotFound(f"User {user_id} not found.", code="user_not_found")
    return found
