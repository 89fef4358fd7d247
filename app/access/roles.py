"""Who may attempt what: one table of actions and the roles allowed each.

Each domain module of app.access adds its own actions to PERMISSIONS; the
package imports them all, so the table is whole wherever it is read.
"""
from __future__ import annotations

from app.accounts.models import GTAC_ROLES, PARTNER_ROLES, Role, User
from app.errors import Forbidden

ALL_ROLES = frozenset(Role)
CASE_WORKERS = PARTNER_ROLES | GTAC_ROLES

# action -> roles allowed to attempt it (visibility is checked separately).
PERMISSIONS: dict[str, frozenset[Role]] = {}


def role_allows(role: Role, action: str) -> bool:
    return role in PERMISSIONS[action]


def allowed(user: User, action: str) -> bool:
    return role_allows(user.role, action)


def require(user: User, action: str) -> None:
    if not allowed(user, action):
        raise Forbidden(f"Your role ({user.role.value}) may not do this.", code="role_not_allowed",
                        details={"action": action})
