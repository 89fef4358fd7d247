"""Signed webhooks: HMAC-SHA256 over the timestamp and the raw body.

The header reads `t=<unix seconds>,v1=<hex digest>`. A receiver refuses a bad
signature and a timestamp outside the tolerance (a replayed old webhook).
"""
from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Payments-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value for `body`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str | None, now: float | None = None) -> bool:
    """True when `header` signs `body` with `secret` and is recent."""
    if not header or not secret:
        return False
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
