"""Where webhooks may point: http(s) to public addresses only.

A partner's URL whose host resolves to this machine, the private network, a
link-local address (cloud metadata services live there), multicast or
reserved space would let anyone with a partner admin's account make the
server call inside the network. The host is resolved at registration and
again before every attempt, since DNS can change in between. Every address
the name resolves to must be public. SR_WEBHOOK_ALLOW_PRIVATE lets a test
suite or a demo deliver to loopback receivers.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

from app.errors import RuleViolation

ALLOWED_SCHEMES = ("http", "https")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (the seam tests replace)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def refusal(address: Address) -> str | None:
    """Why an address is no place for a webhook, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    # Most specific first: Python counts loopback, link-local and reserved space as private too.
    for reason in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(address, f"is_{reason}"):
            return reason
    if not address.is_global:  # shared address space (100.64.0.0/10) and the like
        return "private"
    return None


def check(url: str) -> None:
    """Refuse (422) a URL that is not http(s) or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise RuleViolation("Webhook URLs must use http or https.", code="webhook_url_scheme",
                            details={"scheme": parts.scheme})
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise RuleViolation("The webhook URL's port is not valid.", code="webhook_url_invalid") from None
    if not host:
        raise RuleViolation("The webhook URL names no host.", code="webhook_url_invalid")
    if current_app.config["SR_WEBHOOK_ALLOW_PRIVATE"]:
        return
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host, port)]
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise RuleViolation(f"The webhook host {host} does not resolve.", code="webhook_host_unresolvable",
                                details={"host": host}) from None
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise RuleViolation(
                f"The webhook host {host} resolves to {address}, a {reason.replace('_', '-')} address; "
                "webhooks go to public addresses only.", code="webhook_url_not_public",
                details={"host": host, "address": str(address), "reason": reason})
