"""Service contracts and the bulk import of the vendor's records: the vendor's support
operations (vendor_admin) only. Contracts are the vendor's own records, not a tenant's:
anyone else is refused by role (403), whatever contract they name."""
from __future__ import annotations

from app.access.roles import PERMISSIONS
from app.accounts.models import Role

VENDOR_ADMINS = frozenset({Role.VENDOR_ADMIN})
PERMISSIONS.update({
    "contract.manage": VENDOR_ADMINS,
    "import.run": VENDOR_ADMINS,
})
