"""The vendor's OpenID provider: whether single sign-on is set up, and the redirect to it and the
claims it sends back.

Authlib (app/accounts/provider_client.py) checks everything that makes the answer trustworthy: the
state (kept in this browser's session, so an answer meant for another browser is refused), the
nonce, the ID token's signature against the provider's published keys, its issuer, audience and
expiry; PKCE binds the code to this browser too. Each call to the provider (discovery, keys, token)
is a call to the outside world (app/outbound.py): never with a transaction open, bounded in total
by OIDC_TIMEOUT_SECONDS. The client is built from the settings when first needed and again
whenever they change; Authlib is loaded only then.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app

from app.config import OIDC_CLIENT_SETTINGS


def configured() -> bool:
    return all(current_app.config.get(name) for name in OIDC_CLIENT_SETTINGS[:3])


def display_name() -> str:
    return current_app.config["OIDC_DISPLAY_NAME"]


def redirect_to_provider(callback_url: str) -> Response:
    """The redirect that sends the browser to the provider's sign-in, remembering state, nonce and
    PKCE verifier in this browser's session."""
    from app.accounts import provider_client

    return provider_client.redirect_to_provider(callback_url)


def claims_from_callback() -> dict[str, Any]:
    """The checked ID token's claims from the provider's answer to this request, or an error that
    says why there are none."""
    from app.accounts import provider_client

    return provider_client.claims_from_callback()
