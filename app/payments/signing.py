"""Signed webhooks: HMAC-SHA256 over the timestamp and the raw body.

The header reads `t=<unix seconds>,v1=<hex digest>`. A receiver refuses a bad
signature and a timestamp outside the tolerance (a replayed old webhook).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time

HEADER = "Payments-Signature"
TOLERANCE_SECONDS = 300
# Unix seconds in ASCII digits (12 reach the year 33658) and a SHA-256 hex digest.
_PART = re.compile(r"(t=[0-9]{1,12}|v1=[0-9a-f]{64})\Z")
MAX_HEADER_CHARS = 1000


class MalformedSignature(ValueError):
    """A signature header that is not of the form t=<seconds>,v1=<hex digest>: bad input, not a
    wrong signature."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value for `body`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def parse(header: str) -> tuple[int, list[str]]:
    """(timestamp, v1 digests) of a header; MalformedSignature when it is not one.

    Parts of other schemes (v0=..., a future v2=...) are skipped, as senders rotating
    schemes send several; the t= part must be there once, as 1 to 12 ASCII digits.
    """
    if len(header) > MAX_HEADER_CHARS:
        raise MalformedSignature("the signature header is too long")
    timestamps, digests = [], []
    for part in header.split(","):
        part = part.strip()
        if part.startswith(("t=", "v1=")):
            if not _PART.match(part):
                raise MalformedSignature(f"malformed signature part {part[:20]!r}")
            (timestamps if part.startswith("t=") else digests).append(part.split("=", 1)[1])
    if len(timestamps) != 1 or not digests:
        raise MalformedSignature("the signature header needs one t=<unix seconds> and a v1=<hex digest>")
    return int(timestamps[0]), digests


def verify(secret: str, body: bytes, header: str | None, now: float | None = None) -> bool:
    """True when `header` signs `body` with `secret` and is recent; MalformedSignature when the
    header is not a signature at all."""
    if not header or not secret:
        return False
    timestamp, digests = parse(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    # Every digest is compared, so that timing tells nothing about which one came close.
    return sum(hmac.compare_digest(expected, digest) for digest in digests) > 0
