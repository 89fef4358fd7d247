"""Tenant scoping and role rules: the one place every feature asks (`from app import access`).

Two questions, always in this order:
1. Can the caller see the object? Queries start from the scopes here, so an
   object of another tenant is simply not found (404, no existence leak).
2. May the caller's role do this to an object it can see? If not, 403.

One module per domain; each adds its actions to the one table of roles.py.
Nothing outside this package compares a row's tenant with the caller's
organisation (tests/unit/test_tenancy_rules.py holds the code to that).
"""
from app.access.roles import ALL_ROLES, CASE_WORKERS, PERMISSIONS, allowed, require, role_allows
from app.access.accounts import (USER_ADMINS, acting_partner, administered_organisation, administered_users,
                                 get_administered_user, organisations_for_new_users)
from app.access.administration import (administered_organisations, get_organisation, suspending_partner,
                                       visible_certifications)
from app.access.cases import (CHANNEL_READERS, CHANNEL_WRITERS, case_scope, covered_serial,
                              covered_serials_query, get_case, parameterised_case_scope, readable_channels,
                              require_channel_read, require_channel_write, visible_cases, writable_channels)
from app.access.attachments import ATTACHMENT_READERS, attachment_scope
from app.access import triage  # noqa: F401  (its actions join the table; it has no functions)
from app.access import contracts  # noqa: F401  (likewise)
from app.access.partner_status import get_partner_engineer
from app.access.payments import (PAYMENTS_STAFF, get_claim, get_payout, parameterised_claim_scope, payee_partner,
                                 payout_feed_partner, visible_allocations, visible_claims, visible_payouts)
from app.access.srs import (ASSIGNEE_ONLY_MOVES, GTAC_MANAGERS, get_sr, may_move_sr, require_sr_move,
                            parameterised_sr_scope, sees_every_sr, sr_feed_partner, sr_scope)
from app.access.rma import get_rma
from app.access.programmes import (PROGRAMME_STAFF, get_programme_partner, own_partner, programme_partners,
                                   visible_sales)
from app.access.webhooks import get_webhook, visible_webhooks, webhook_scope
from app.access.integrations import INTEGRATION_MANAGERS, get_integration, visible_integrations

__all__ = [
    "ALL_ROLES", "INTEGRATION_MANAGERS", "get_integration", "visible_integrations", "ASSIGNEE_ONLY_MOVES", "ATTACHMENT_READERS", "CASE_WORKERS", "CHANNEL_READERS",
    "CHANNEL_WRITERS", "GTAC_MANAGERS", "PAYMENTS_STAFF", "PERMISSIONS", "PROGRAMME_STAFF", "USER_ADMINS",
    "acting_partner", "administered_organisation", "administered_organisations", "administered_users",
    "allowed", "role_allows", "attachment_scope", "case_scope", "covered_serial", "parameterised_case_scope", "covered_serials_query",
    "get_administered_user", "get_case", "get_partner_engineer", "get_claim", "get_organisation", "get_payout", "get_programme_partner",
    "get_rma", "get_sr", "get_webhook", "may_move_sr", "organisations_for_new_users", "own_partner", "payee_partner",
    "parameterised_claim_scope", "payout_feed_partner",
    "programme_partners", "visible_sales",
    "readable_channels", "require", "require_channel_read", "require_channel_write", "require_sr_move",
    "parameterised_sr_scope", "sees_every_sr", "sr_feed_partner", "sr_scope", "suspending_partner", "visible_allocations", "visible_cases",
    "visible_certifications", "visible_claims", "visible_payouts",
    "visible_webhooks", "webhook_scope", "writable_channels",
]
