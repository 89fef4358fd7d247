"""Where webhooks may point: http(s) to public addresses only, and how deliveries get there.

A partner's URL whose host resolves to this machine, the private network, a
link-local address (cloud metadata services live there), multicast or
reserved space would let anyone with a partner admin's account make the
server call inside the network. The host is resolved at registration and
again before every attempt, since DNS can change in between. Every address
the name resolves to must be public. SR_WEBHOOK_ALLOW_PRIVATE lets a test
suite or a demo deliver to loopback receivers.

Checking a name and then letting an HTTP client resolve it again would leave a
window (DNS rebinding: public for the check, private for the connection). So
deliveries go through `session()`, whose connections resolve the host
themselves, check every address and connect only to one of those checked
addresses; the URL's host name still goes in the Host header, the TLS server
name and the certificate check.
"""
from __future__ import annotations

import ipaddress
import socket
from socket import timeout as SocketTimeout
from urllib.parse import urlsplit

import requests
from flask import current_app
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from app.errors import InvalidInput, RuleViolation
from app.outbound import WatchedConnection

ALLOWED_SCHEMES = ("http", "https")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (the seam tests replace)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, which a relay or translator may deliver to:
    IPv4-mapped (::ffff:a.b.c.d), 6to4 (2002:AABB:CCDD::/48), Teredo (server and client),
    NAT64's well-known prefix (64:ff9b::a.b.c.d) and the deprecated IPv4-compatible ::a.b.c.d."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if address in NAT64 or (int(address) >> 32 == 0 and int(address) > 0xFFFF):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def refusal(address: Address) -> str | None:
    """Why an address is no place for a webhook, or None for a public one.

    An IPv6 address that embeds an IPv4 one is judged by both: 2002:7f00:1:: is
    6to4 for 127.0.0.1, and 6to4 relays deliver to it.
    """
    for candidate in (*embedded_ipv4(address), address):
        reason = _own_refusal(candidate)
        if reason:
            return reason
    return None


def _own_refusal(address: Address) -> str | None:
    # Most specific first: Python counts loopback, link-local and reserved space as private too.
    for reason in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(address, f"is_{reason}"):
            return reason
    if not address.is_global:  # shared address space (100.64.0.0/10) and the like
        return "private"
    return None


def check(url: str) -> None:
    """Refuse a URL that is not one (400), is not http(s) or whose host resolves to a non-public
    address (422)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1": an unclosed IPv6 bracket, or a host that is no address
        raise InvalidInput("The webhook URL is not a valid URL.", code="webhook_url_malformed",
                           details={"fields": {"url": ["Not a valid URL."]}}) from None
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
    connectable(host, port)


def connectable(host: str, port: int) -> list[Address]:
    """The addresses a delivery may connect to for this host, every one checked; refuses (422) otherwise.

    A name with one bad address among good ones is refused whole: which address
    a client picks is not ours to know.
    """
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host, port)]
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise RuleViolation(f"The webhook host {host} does not resolve.", code="webhook_host_unresolvable",
                                details={"host": host}) from None
    if current_app.config["SR_WEBHOOK_ALLOW_PRIVATE"]:
        return addresses
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise RuleViolation(
                f"The webhook host {host} resolves to {address}, a {reason.replace('_', '-')} address; "
                "webhooks go to public addresses only.", code="webhook_url_not_public",
                details={"host": host, "address": str(address), "reason": reason})
    return addresses


class _PinnedConnection(WatchedConnection):
    """A connection that opens its socket only to an address `connectable` approved, resolved here.

    `host` (and so the Host header, SNI and the certificate's name check) stays
    the URL's name; only the socket's destination is pinned.
    """

    def _new_conn(self):
        # _dns_host keeps a trailing dot when the URL had one, as name resolution wants.
        addresses = connectable(self._dns_host, self.port)
        failure: Exception | None = None
        for address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (str(address), self.port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options)
            except SocketTimeout as exc:
                failure = ConnectTimeoutError(
                    self, f"Connection to {self.host} ({address}) timed out. (connect timeout={self.timeout})")
                failure.__cause__ = exc
            except OSError as exc:
                failure = NewConnectionError(self, f"Failed to establish a new connection to {address}: {exc}")
                failure.__cause__ = exc
            else:
                return sock
        raise failure


class _PinnedHTTPSConnection(_PinnedConnection, HTTPSConnection):
    pass


class _PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PinnedConnection


class _PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _PinnedAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PinnedHTTPConnectionPool,
                                                   "https": _PinnedHTTPSConnectionPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # Through a proxy the proxy would resolve the name, out of our sight.
        raise RuleViolation("Webhook deliveries do not go through proxies.", code="webhook_proxy_refused")


def session() -> requests.Session:
    """An HTTP session for one delivery: checked addresses only, no proxies from the environment,
    no retries of its own (the delivery schedule retries). Redirects are the caller's to refuse."""
    http = requests.Session()
    http.trust_env = False  # no HTTP(S)_PROXY, no .netrc credentials, no CA bundle swapped in
    adapter = _PinnedAdapter(max_retries=0)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http
