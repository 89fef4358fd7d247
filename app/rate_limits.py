"""Rate limits on the API (per token, per signing integration and per client address) and on signing in (per address).

Flask-Limiter counts in Redis when REDIS_URL is set, so every web process shares
the counts; on the embedded default it counts in memory. A refused request gets
429 with the SPEC §10 error body, `details.retry_after_seconds` and Retry-After.
The sign-in failure throttling of app/accounts/services.py stays: it counts wrong
passwords per account; these limits count requests, right or wrong.
"""
from __future__ import annotations

import hashlib
import math
import time

from flask import Flask, make_response, request
from flask_limiter import ApplicationLimit, Limit, Limiter, RateLimitExceeded, RequestLimit
from limits import parse_many

from app.api_base import error_response
from app.config import ConfigError

# Where people and machines sign in: a password posted, or the identity provider's answer; and
# where a password is reset, so that nobody floods a mailbox with reset links or guesses a link.
SIGN_IN_POSTS = frozenset({"web.login", "tokens.issue", "account_web.forgot_password",
                           "account_web.reset_password"})
SIGN_IN_RETURN = "single_sign_on.callback"


def _address() -> str:
    # After ProxyFix (TRUSTED_PROXIES), the client's own address.
    return "address:" + (request.remote_addr or "unknown")


def _bearer() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def _token() -> str:
    # A digest, never the secret itself, names the token's counter in Redis.
    return "token:" + hashlib.sha256((_bearer() or "").encode()).hexdigest()[:32]


INTEGRATION_HEADER = "X-GTAC-Integration"


def _integration() -> str:
    # The integration a signed request names; a forged name only spends that integration's
    # allowance on requests that are then refused, and the per-address limit still applies.
    return "integration:" + request.headers.get(INTEGRATION_HEADER, "")[:12]


def _not_integration() -> bool:
    return _not_api() or not request.headers.get(INTEGRATION_HEADER)


def _not_api() -> bool:
    return not request.path.startswith("/api/")


def _not_api_with_token() -> bool:
    return _not_api() or _bearer() is None


def _not_signing_in() -> bool:
    if request.endpoint == SIGN_IN_RETURN:
        return False
    return request.method != "POST" or request.endpoint not in SIGN_IN_POSTS


def _refusal(limit: RequestLimit):
    retry_after = max(1, math.ceil(limit.reset_at - time.time()))
    return make_response(error_response(
        429, "rate_limited", f"Too many requests: at most {limit.limit}. Try again in {retry_after} s.",
        {"retry_after_seconds": retry_after, "limit": str(limit.limit)},
        headers={"Retry-After": str(retry_after)}))


def _rate_limited(error: RateLimitExceeded):
    return error.response


def init_app(app: Flask) -> None:
    config = app.config
    for setting in ("RATE_LIMIT_PER_TOKEN", "RATE_LIMIT_PER_ADDRESS", "RATE_LIMIT_SIGN_IN",
                    "RATE_LIMIT_PER_INTEGRATION"):
        try:
            parse_many(config[setting])
        except ValueError:
            raise ConfigError(f"{setting} is not a rate limit such as '600 per minute': "
                              f"{config[setting]!r}") from None
    limiter = Limiter(
        _address, app=app, enabled=config["RATE_LIMITS_ENABLED"],
        storage_uri=config["REDIS_URL"] or "memory://", key_prefix="gtac-rate", strategy="moving-window",
        application_limits=[
            ApplicationLimit(config["RATE_LIMIT_PER_TOKEN"], key_function=_token, exempt_when=_not_api_with_token),
            ApplicationLimit(config["RATE_LIMIT_PER_ADDRESS"], key_function=_address, exempt_when=_not_api),
            ApplicationLimit(config["RATE_LIMIT_PER_INTEGRATION"], key_function=_integration,
                             exempt_when=_not_integration),
        ],
        default_limits=[Limit(config["RATE_LIMIT_SIGN_IN"], key_function=_address, exempt_when=_not_signing_in)],
        on_breach=_refusal,
        # Counting must not take the service down with it: without Redis, requests go through.
        swallow_errors=True,
    )
    app.extensions["rate_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _rate_limited)
