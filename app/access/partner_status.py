"""Partner status and training (SPEC §11): the programmes team changes it programme-wide; a partner's
users (admin and engineer) follow their own organisation's on its dashboard, another's is not found.

Which partners a caller sees is the rebates' rule (app.access.programmes.programme_partners).
"""
from __future__ import annotations

from app.access.programmes import PROGRAMME_STAFF
from app.access.roles import PERMISSIONS
from app.accounts.models import PARTNER_ROLES

PERMISSIONS.update({
    "partner_status.read": PROGRAMME_STAFF | PARTNER_ROLES,
    "partner_status.read_all": PROGRAMME_STAFF,
    "partner_status.change": PROGRAMME_STAFF,
})
