"""RMAs: seen with the SR they belong to; the partner asks, GTAC decides, either confirms receipt."""
from __future__ import annotations

from app.access.roles import PERMISSIONS
from app.accounts.models import GTAC_ROLES, PARTNER_ROLES

PERMISSIONS.update({
    "rma.request": PARTNER_ROLES,
    "rma.decide": GTAC_ROLES,  # approve, reject, ship: never automatic
    "rma.receive": GTAC_ROLES | PARTNER_ROLES,  # either side confirms the replacement arrived
})

