"""Accounts: API tokens, and the partner on whose behalf a partner's user acts."""
from __future__ import annotations

from app.access.roles import ALL_ROLES, PERMISSIONS
from app.accounts.models import PARTNER_ROLES, User
from app.errors import Forbidden

PERMISSIONS.update({
    "token.issue": ALL_ROLES,
})


def acting_partner(user: User) -> int:
    """The partner organisation that what a partner's user creates belongs to: always its own."""
    if user.role not in PARTNER_ROLES:
        raise Forbidden("Only a partner's users act for a partner.", code="role_not_allowed",
                        details={"role": user.role.value})
    return user.organisation_id
