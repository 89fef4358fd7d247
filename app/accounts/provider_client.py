"""The Authlib client of the vendor's OpenID provider (see app/accounts/identity_provider.py).

Loaded only by a process that signs someone in through the provider: Authlib and its JOSE
library cost every process some 17 MB.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import Response, current_app
from joserfc.errors import JoseError

from app import outbound
from app.config import OIDC_CLIENT_SETTINGS
from app.errors import DomainError, InvalidInput

_CLIENT = "identity_provider"


class ProviderUnavailable(DomainError):
    status = 502
    code = "identity_provider_unavailable"


def display_name() -> str:
    return current_app.config["OIDC_DISPLAY_NAME"]


class _WatchedSession(OAuth2Session):
    """Authlib's HTTP session on connections that app.outbound's deadline can cut."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adapter = outbound.WatchedAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)


class _Provider(FlaskOAuth2App):
    client_cls = _WatchedSession
    OAUTH_APP_CONFIG = None


def _client() -> _Provider:
    settings = tuple(current_app.config[name] for name in OIDC_CLIENT_SETTINGS)
    cached = current_app.extensions.get(_CLIENT)
    if cached is None or cached[0] != settings:
        discovery, client_id, secret, timeout = settings
        registry = OAuth()
        registry.init_app(current_app)
        client = registry.register(
            _CLIENT, client_cls=_Provider, client_id=client_id, client_secret=secret,
            server_metadata_url=discovery,
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                           "default_timeout": timeout})
        cached = current_app.extensions[_CLIENT] = (settings, client)
    return cached[1]


@contextmanager
def _call(what: str) -> Iterator[None]:
    outbound.guard(f"identity provider: {what}")
    seconds = current_app.config["OIDC_TIMEOUT_SECONDS"]
    try:
        with outbound.deadline(seconds, f"identity provider: {what}"):
            yield
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        # ValueError: an answer that is not JSON; RuntimeError: discovery without the endpoints.
        current_app.logger.warning("single sign-on: %s failed: %s", what, exc)
        raise ProviderUnavailable(f"{display_name()} did not answer as expected. Try again in a moment, "
                                  "or sign in with your password.") from exc


def redirect_to_provider(callback_url: str) -> Response:
    """The redirect that sends the browser to the provider's sign-in, remembering state, nonce and
    PKCE verifier in this browser's session."""
    with _call("authorisation request"):
        return _client().authorize_redirect(callback_url)


def claims_from_callback() -> dict[str, Any]:
    """The checked ID token's claims from the provider's answer to this request, or an error that
    says why there are none."""
    client = _client()
    try:
        with _call("token request"):
            token = client.authorize_access_token()
    except MismatchingStateError as exc:
        raise InvalidInput("This sign-in was not started from this browser, or has already been used. "
                           "Start again from the sign-in page.", code="sso_state_mismatch") from exc
    except OAuthError as exc:
        current_app.logger.info("single sign-on refused by the provider: %s %s", exc.error, exc.description)
        raise InvalidInput(f"{display_name()} did not sign you in ({exc.description or exc.error}).",
                           code="sso_not_completed") from exc
    except (AuthlibBaseError, JoseError) as exc:
        current_app.logger.warning("single sign-on: the ID token was refused: %s", exc)
        raise InvalidInput(f"The answer from {display_name()} could not be trusted, so it did not sign "
                           "you in. Start again from the sign-in page.", code="sso_invalid_token") from exc
    claims = dict(token.get("userinfo") or {})
    if not claims:
        raise InvalidInput(f"{display_name()} sent no ID token.", code="sso_invalid_token")
    if "email" not in claims and client.load_server_metadata().get("userinfo_endpoint"):
        claims = _with_userinfo(client, token, claims)
    return claims


def _with_userinfo(client: _Provider, token: dict, claims: dict[str, Any]) -> dict[str, Any]:
    """The e-mail from the provider's userinfo endpoint, for providers that keep it out of the ID
    token (as the specification has it for the code flow); only for the ID token's own subject."""
    with _call("userinfo request"):
        info = client.userinfo(token=token)
    if info.get("sub") != claims.get("sub"):
        raise InvalidInput(f"The answer from {display_name()} could not be trusted, so it did not sign "
                           "you in. Start again from the sign-in page.", code="sso_invalid_token")
    return {**claims, **{key: info[key] for key in ("email", "email_verified", "name") if key in info}}
