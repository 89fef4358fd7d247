"""Single sign-on: which user the identity provider's ID token signs in, if any.

The token itself has been checked by then (app/accounts/identity_provider.py: signature, issuer,
audience, nonce, expiry); what is decided here is who it lets in. The e-mail it carries names an
existing user, compared without regard to case. Nobody is created silently: only when
OIDC_AUTO_CREATE_DOMAIN names the vendor's own domain does an unknown, verified e-mail of exactly
that domain get an account (OIDC_AUTO_CREATE_ROLE, in the vendor's organisation), and that is
audited. The account must then be allowed to sign in, as with a password (app/accounts/eligibility.py).
"""
from __future__ import annotations

import secrets
from typing import Any, Mapping

import sqlalchemy as sa
from flask import current_app

from app.accounts.eligibility import sign_in_refusal
from app.accounts.models import Organisation, OrgKind, Role, User
from app.audit.services import record
from app.errors import Forbidden
from app.uow import UnitOfWork, unit_of_work

# Not an Argon2 hash, so no password ever matches it: the account signs in through the provider
# until someone sets a password for it.
_NO_PASSWORD = "!single-sign-on"


def user_for_claims(claims: Mapping[str, Any]) -> User:
    """The user the ID token's claims sign in; Forbidden with the reason when nobody may."""
    email = _verified_email(claims)
    with unit_of_work() as uow:
        user = uow.session.scalars(
            sa.select(User).where(sa.func.lower(User.email) == email)).one_or_none()
        if user is None:
            user = _created_for(uow, email, claims)
        refusal = sign_in_refusal(user)
        if refusal is None:
            return user
    raise refusal


def _verified_email(claims: Mapping[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email.strip()) > 254:
        raise Forbidden("Your identity provider did not send an e-mail address, so no GTAC Triage "
                        "account can be found for you. Sign in with your password.",
                        code="sso_no_email")
    email = email.strip().lower()
    # A provider that says whether it verified the address must have: an unverified one could be
    # anybody's.
    if "email_verified" in claims and not _true(claims["email_verified"]):
        raise Forbidden(f"Your identity provider has not verified the e-mail address {email}, so it "
                        "cannot sign you in. Verify it there, or sign in with your password.",
                        code="sso_email_unverified")
    return email


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _created_for(uow: UnitOfWork, email: str, claims: Mapping[str, Any]) -> User:
    """A new vendor account for an e-mail of the vendor's own domain, when the setting allows it."""
    domain = current_app.config["OIDC_AUTO_CREATE_DOMAIN"]
    vendor = uow.session.scalars(sa.select(Organisation).where(Organisation.kind == OrgKind.VENDOR)
                                 .order_by(Organisation.id).limit(1)).one_or_none()
    # Only on the provider's word that the address is the person's: the domain alone proves nothing.
    if (domain is None or email.rpartition("@")[2] != domain or vendor is None
            or not _true(claims.get("email_verified"))):
        raise Forbidden(f"No GTAC Triage account has the e-mail address {email}. Ask your organisation's "
                        "administrator for an invitation.", code="sso_unknown_user")
    name = claims.get("name")
    name = name.strip()[:200] if isinstance(name, str) and name.strip() else email.partition("@")[0]
    role = Role(current_app.config["OIDC_AUTO_CREATE_ROLE"])
    user = User(email=email, name=name, role=role, organisation_id=vendor.id, active=True,
                password_hash=f"{_NO_PASSWORD}-{secrets.token_hex(8)}")
    uow.session.add(user)
    uow.session.flush()
    record(None, "user", user.id, "user.created",
           after={"email": email, "role": role.value, "organisation": vendor.name, "by": "single sign-on"})
    return user
