"""Partners' webhooks: a partner's admin manages its own organisation's, and sees no other's."""
from __future__ import annotations

from app.access.roles import PERMISSIONS
from app.accounts.models import Role

PERMISSIONS.update({
    "webhook.manage": frozenset({Role.PARTNER_ADMIN}),
})

