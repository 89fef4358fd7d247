"""The main navigation of the pages: which links a role sees, worked out once per role.

Every page's header shows it, so it is not asked of the permission table link by link on each
page: the table does not change while the application runs.
"""
from __future__ import annotations

from functools import cache

from app import access
from app.accounts.models import Role

# Links in the order shown. In a group of alternatives only the first the role may follow is shown
# (a programmes team manages programmes; a partner reads its rebates instead).
_STAFF_LINKS: tuple[tuple[tuple[str, str, str], ...], ...] = (
    (("case.list", "cases_web.case_list", "Cases"),),
    (("case.open", "cases_web.new_case", "Open a case"),),
    (("sr.list", "srs_web.queue", "Service requests"),),
    (("sr.dashboard", "srs_web.manager_dashboard", "Dashboard"),),
    (("claim.read", "payments_web.home", "Payments"),),
    (("programme.manage", "programmes_web.index", "Programmes"),
     ("attainment.read", "programmes_web.portal", "Rebates")),
    (("partner_status.read", "partner_status_web.index", "Partner status"),),
    (("webhook.manage", "webhooks_web.index", "Webhooks"),),
    (("integration.manage", "integrations_web.index", "Integrations"),),
    (("organisation.manage", "admin_web.index", "Administration"),),
    (("user.manage", "users_web.user_list", "Users"),),
    (("contract.manage", "contracts_web.contracts", "Contracts"),),
    (("import.run", "imports_web.imports", "Imports"),),
)
_CUSTOMER_LINKS = (("cases_web.my_cases", "My cases"), ("cases_web.new_request", "Open a request"))
_EVERYONE_LINKS = (("web.api_docs", "API"), ("accounts_web.tokens", "API tokens"), ("account_web.account", "Account"))


@cache
def links_for(role: Role) -> tuple[tuple[str, str], ...]:
    """(endpoint, label) of each link in the header of a signed-in user with this role."""
    if role is Role.CUSTOMER:
        return _CUSTOMER_LINKS + _EVERYONE_LINKS
    shown = []
    for group in _STAFF_LINKS:
        for action, endpoint, label in group:
            if access.role_allows(role, action):
                shown.append((endpoint, label))
                break
    return tuple(shown) + _EVERYONE_LINKS
