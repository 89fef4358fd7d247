"""Who may sign in, whichever way they sign in (a password or the identity provider)."""
from __future__ import annotations

from app.accounts.models import User
from app.errors import Forbidden


def sign_in_refusal(user: User) -> Forbidden | None:
    """Why this user may not sign in now, or None: the account must be active and its organisation
    not suspended (for a customer, nor the partner that serves it, whose users it reaches GTAC through)."""
    if not user.active:
        return Forbidden("This account has been deactivated. Ask your organisation's administrator "
                         "to restore it.", code="account_deactivated")
    organisation = user.organisation
    if organisation.suspended:
        return Forbidden(f"{organisation.name}'s access to GTAC Triage is suspended by the vendor. "
                         "Ask your organisation's administrator or your vendor contact.",
                         code="organisation_suspended")
    partner = organisation.partner
    if partner is not None and partner.suspended:
        return Forbidden(f"{partner.name}, the partner that serves {organisation.name}, is suspended by "
                         "the vendor, so its customers cannot sign in. Ask your vendor contact.",
                         code="organisation_suspended")
    return None
