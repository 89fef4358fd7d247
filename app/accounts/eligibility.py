"""Who may sign in, whichever way they sign in (a password or the identity provider)."""
from __future__ import annotations

from app import access
from app.accounts.models import User
from app.errors import Forbidden


def sign_in_refusal(user: User) -> Forbidden | None:
    """Why this user may not sign in now, or None: the account must be active and the partner it works
    for (for a customer's user, the partner serving it) not suspended. Said plainly, since only someone
    who knows the password, or the identity provider, learns it."""
    if not user.active:
        return Forbidden("This account has been deactivated. Ask your organisation's administrator "
                         "to restore it.", code="account_deactivated")
    partner = access.suspending_partner(user)
    if partner is None:
        return None
    message = f"{partner.name} is suspended by the vendor: its users and its customers' users cannot sign in."
    return Forbidden(message + " Ask the vendor's support operations to reinstate it.",
                     code="organisation_suspended", details={"partner": partner.name})
