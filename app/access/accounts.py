"""Accounts: API tokens."""
from __future__ import annotations

from app.access.roles import ALL_ROLES, PERMISSIONS

PERMISSIONS.update({
    "token.issue": ALL_ROLES,
})

