"""Integrations of the programme platform: the vendor's administrators and the programmes team
register and suspend them; nobody else sees that they exist."""
from __future__ import annotations

import sqlalchemy as sa

from app.access.roles import PERMISSIONS
from app.accounts.models import Role, User
from app.errors import NotFound
from app.extensions import db
from app.integrations.models import Integration

INTEGRATION_MANAGERS = frozenset({Role.VENDOR_ADMIN, Role.PROGRAMS})
PERMISSIONS.update({
    "integration.manage": INTEGRATION_MANAGERS,
})


def visible_integrations(user: User) -> sa.Select:
    return sa.select(Integration).where(sa.true() if user.role in INTEGRATION_MANAGERS else sa.false())


def get_integration(user: User, integration_id: int) -> Integration:
    integration = db.session.scalars(visible_integrations(user).where(Integration.id == integration_id)
                                     ).one_or_none()
    if integration is None:
        raise NotFound(f"Integration {integration_id} not found.", code="integration_not_found")
    return integration
