"""Triage (SPEC §7): known anomalies, duplicates, severity flags, rulings.

Partners triage their cases; GTAC reads the partner's triage and rulings on escalated cases.
"""
from __future__ import annotations

from app.access.roles import PERMISSIONS
from app.accounts.models import GTAC_ROLES, PARTNER_ROLES

PERMISSIONS.update({
    "triage.read": PARTNER_ROLES | GTAC_ROLES,
    "triage.rule": PARTNER_ROLES,
    # Resolving with a known fix instead of escalating, and reopening when it did not help.
    "triage.resolve": PARTNER_ROLES,
})
