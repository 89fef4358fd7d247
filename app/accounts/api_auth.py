"""Bearer-token authentication for every /api/ request, in one hook.

Authentication is on by default: a new API endpoint is protected unless it is
listed in PUBLIC_ENDPOINTS. The API never accepts the web session cookie, so
it needs no CSRF token.
"""
from __future__ import annotations

from flask import g, request

from app.accounts.models import User
from app.accounts.services import user_for_token
from app.errors import Unauthorized

PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "tokens.issue", "web.api_docs",
                    # The claims platform signs each request instead (app/integrations/services.py).
                    "integrations.push_claim"}


def authenticate_api_request() -> None:
    if not request.path.startswith("/api/") or request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send a personal API token as 'Authorization: Bearer <token>'.",
                           code="missing_token")
    user = user_for_token(secret.strip())
    if user is None:
        raise Unauthorized("The API token is invalid or has been revoked.", code="invalid_token")
    g.api_user = user


def api_user() -> User:
    """The caller of the current API request (set by authenticate_api_request)."""
    return g.api_user
