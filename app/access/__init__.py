"""Tenant scoping and role rules: the one place every feature asks (`from app import access`).

Two questions, always in this order:
1. Can the caller see the object? Queries start from the scopes here, so an
   object of another tenant is simply not found (404, no existence leak).
2. May the caller's role do this to an object it can see? If not, 403.

One module per domain; each adds its actions to the one table of roles.py.
"""
from app.access.roles import ALL_ROLES, CASE_WORKERS, PERMISSIONS, allowed, require
from app.access import accounts  # noqa: F401  (its actions join the table)
from app.access.cases import (CHANNEL_READERS, CHANNEL_WRITERS, case_scope, covered_serial,
                              covered_serials_query, get_case, readable_channels, require_channel_read,
                              require_channel_write, visible_cases, writable_channels)
from app.access.attachments import ATTACHMENT_READERS, attachment_scope
from app.access import triage  # noqa: F401  (its actions join the table)
from app.access.payments import (PAYMENTS_STAFF, get_claim, get_payout, payee_partner, visible_claims,
                                 visible_payouts)
from app.access.srs import (ASSIGNEE_ONLY_MOVES, GTAC_MANAGERS, get_sr, require_sr_move, sr_scope,
                            visible_srs)
from app.access import rma, webhooks  # noqa: F401  (their actions join the table)

__all__ = [
    "ALL_ROLES", "ASSIGNEE_ONLY_MOVES", "ATTACHMENT_READERS", "CASE_WORKERS", "CHANNEL_READERS",
    "CHANNEL_WRITERS", "GTAC_MANAGERS", "PAYMENTS_STAFF", "PERMISSIONS",
    "allowed", "attachment_scope", "case_scope", "covered_serial", "covered_serials_query",
    "get_case", "get_claim", "get_payout", "get_sr", "payee_partner",
    "readable_channels", "require", "require_channel_read", "require_channel_write", "require_sr_move",
    "sr_scope", "visible_cases", "visible_claims", "visible_payouts",
    "visible_srs", "writable_channels",
]
