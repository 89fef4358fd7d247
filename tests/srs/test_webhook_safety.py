"""Webhook URLs go to public addresses only (at registration and at every attempt), and their signing
secrets are stored encrypted, shown in clear once."""
from __future__ import annotations

import ipaddress
import socket
import threading
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask_migrate import downgrade, upgrade

from app.config import ConfigError, load_config
from app.extensions import db
from app.webhooks import services as webhooks
from app.webhooks import urls as webhook_urls
from app.webhooks.models import Webhook, WebhookDelivery
from tests.certificates import throwaway_certificate
from tests.migrations.test_migrations import empty_database  # noqa: F401  (a database of its own)
from tests.browser import serve
from tests.srs.helpers import make_sr, move

PUBLIC = "93.184.216.34"


@pytest.fixture
def dns(app, monkeypatch):
    """Names resolve as the test says (through the seam only: nothing is ever sent to these addresses)."""
    assert app.config["SR_WEBHOOK_ALLOW_PRIVATE"] is False  # the default
    table: dict[str, list[str]] = {}

    def resolve(host, port):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    monkeypatch.setattr(webhook_urls, "resolve", resolve)
    return table


def _loopback(address) -> bool:
    try:
        return ipaddress.ip_address(str(address[0]).split("%", 1)[0]).is_loopback
    except (TypeError, ValueError, IndexError):
        return True  # not an IP socket address (a Unix socket path): not ours to police


@pytest.fixture
def no_http(monkeypatch):
    """Records every connection attempted to anywhere but loopback, and lets none through: nothing is
    ever sent to the public and private addresses these tests make names resolve to."""
    attempted: list = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        if not _loopback(address):
            attempted.append(address)
            raise AssertionError(f"a connection to {address} was attempted")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempted


def register(client, tokens, url):
    return client.post("/api/v1/webhooks", json={"url": url}, headers=tokens["admin"])


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),
    ("http://10.1.2.3/hook", "private"),
    ("https://192.168.0.10/hook", "private"),
    ("http://172.16.5.5/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link_local"),
    ("http://[fe80::1]/hook", "link_local"),
    ("http://224.0.0.1/hook", "multicast"),
    ("http://240.0.0.1/hook", "reserved"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://hooks.partner.example/gtac", "private"),  # one of its addresses is private
    ("http://localhost.partner.example/gtac", "loopback"),
])
def test_registration_refuses_hosts_that_are_not_public(app, client, tokens, dns, url, reason):
    dns["hooks.partner.example"] = [PUBLIC, "10.0.0.7"]
    dns["localhost.partner.example"] = ["127.0.0.1"]
    answer = register(client, tokens, url)
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == "webhook_url_not_public"
    assert answer.json["error"]["details"]["reason"] == reason
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


@pytest.mark.parametrize("url, code", [
    ("ftp://hooks.partner.example/x", "webhook_url_scheme"),
    ("file://hooks.partner.example/etc/passwd", "webhook_url_scheme"),
    ("gopher://hooks.partner.example:70/x", "webhook_url_scheme"),
    ("http://nowhere.partner.example/x", "webhook_host_unresolvable"),
])
def test_registration_refuses_other_schemes_and_unknown_hosts(client, tokens, dns, url, code):
    dns["hooks.partner.example"] = [PUBLIC]
    answer = register(client, tokens, url)
    assert (answer.status_code, answer.json["error"]["code"]) == (422, code)


def test_a_public_host_is_accepted(client, tokens, dns):
    dns["hooks.partner.example"] = [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]
    assert register(client, tokens, "https://hooks.partner.example/gtac").status_code == 201


def test_a_host_that_moves_to_a_private_address_is_refused_at_delivery(app, client, tokens, dns, no_http, clock):
    dns["hooks.partner.example"] = [PUBLIC]
    hook = register(client, tokens, "https://hooks.partner.example/gtac").json
    dns["hooks.partner.example"] = ["10.0.0.5"]  # DNS changed after registration
    number = make_sr(app, "assigned")
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    clock.advance(seconds=30)
    with app.app_context():
        webhooks.deliver_due()
    assert no_http == []
    deliveries = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tokens["admin"]).json
    refused = [d for d in deliveries if d["topic"] == "sr.status"][0]
    assert refused["status"] == "pending" and refused["attempts"] == 2 and refused["last_status_code"] is None
    assert "webhook_url_not_public" in refused["last_error"] and "10.0.0.5" in refused["last_error"]


def test_the_flag_allows_loopback_receivers(app, client, tokens):
    app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        assert register(client, tokens, "http://127.0.0.1:9/hook").status_code == 201
        refused = register(client, tokens, "gopher://127.0.0.1:70/x")
        assert (refused.status_code, refused.json["error"]["code"]) == (422, "webhook_url_scheme")
    finally:
        app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = False


def test_the_flag_is_off_unless_the_environment_turns_it_on(tmp_path):
    base = {"GTAC_ENV": "testing", "SECRET_KEY": "x"}
    assert load_config(str(tmp_path), base)["SR_WEBHOOK_ALLOW_PRIVATE"] is False
    assert load_config(str(tmp_path), {**base, "SR_WEBHOOK_ALLOW_PRIVATE": "1"})["SR_WEBHOOK_ALLOW_PRIVATE"] is True


# --- DNS rebinding: the delivery connects only to an address it checked -----------------------

class CountingReceiver:
    """A loopback endpoint that counts what reaches it."""

    def __init__(self):
        self.hits: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.hits.append({"host": environ.get("HTTP_HOST"), "path": environ.get("PATH_INFO")})
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


@pytest.fixture
def receiver():
    endpoint = CountingReceiver()
    url, stop = serve(endpoint)
    endpoint.port = int(url.rsplit(":", 1)[1])
    yield endpoint
    stop()


class RebindingDNS:
    """Names under partner.example resolve, at the system resolver itself, to the answers queued for them:
    one answer per lookup, the last one repeating, as a rebinding DNS server hands them out. Every lookup,
    whoever makes it (the check, the HTTP client), takes the next answer."""

    def __init__(self):
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        self.real = socket.getaddrinfo

    def getaddrinfo(self, host, port, *args, **kwargs):
        name = host.rstrip(".") if isinstance(host, str) else host
        if name not in self.answers:
            return self.real(host, port, *args, **kwargs)
        queued = self.answers[name]
        address = queued.pop(0) if len(queued) > 1 else queued[0]
        self.lookups.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 0)))]


@pytest.fixture
def rebinding_dns(monkeypatch):
    resolver = RebindingDNS()
    monkeypatch.setattr(socket, "getaddrinfo", resolver.getaddrinfo)
    return resolver


def deliveries_of(client, tokens, hook_id, topic="sr.status") -> list[dict]:
    listed = client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=tokens["admin"]).json
    return [d for d in listed if d["topic"] == topic]


def test_a_name_rebound_to_loopback_after_the_check_reaches_nothing(app, client, tokens, receiver, no_http,
                                                                    rebinding_dns):
    assert app.config["SR_WEBHOOK_ALLOW_PRIVATE"] is False
    # Public for the registration and for the check before the attempt, loopback from then on.
    rebinding_dns.answers["hooks.partner.example"] = [PUBLIC, PUBLIC, "127.0.0.1"]
    hook = register(client, tokens, f"http://hooks.partner.example:{receiver.port}/gtac")
    assert hook.status_code == 201, hook.json
    number = make_sr(app, "assigned")
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200

    assert receiver.hits == [] and no_http == []
    assert rebinding_dns.lookups == [PUBLIC, PUBLIC, "127.0.0.1"]  # the connection resolved the name itself
    [refused] = deliveries_of(client, tokens, hook.json["id"])
    assert (refused["status"], refused["attempts"], refused["last_status_code"]) == ("pending", 1, None)
    assert "webhook_url_not_public" in refused["last_error"] and "127.0.0.1" in refused["last_error"]


def test_a_name_with_one_private_address_among_public_ones_is_refused_at_connect(app, client, tokens, receiver,
                                                                                 no_http, monkeypatch):
    assert app.config["SR_WEBHOOK_ALLOW_PRIVATE"] is False
    answers = iter([[PUBLIC], [PUBLIC], [PUBLIC, "127.0.0.1"]])
    monkeypatch.setattr(webhook_urls, "resolve", lambda host, port: next(answers))
    hook = register(client, tokens, f"http://hooks.partner.example:{receiver.port}/gtac")
    assert move(client, tokens["gtac"], make_sr(app, "assigned"), "in_progress").status_code == 200
    assert receiver.hits == [] and no_http == []
    [refused] = deliveries_of(client, tokens, hook.json["id"])
    assert "webhook_url_not_public" in refused["last_error"] and refused["last_status_code"] is None


def test_with_the_flag_a_name_is_delivered_to_the_address_it_resolves_to(app, client, tokens, receiver,
                                                                        rebinding_dns):
    rebinding_dns.answers["hooks.partner.example"] = ["127.0.0.1"]
    app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        hook = register(client, tokens, f"http://hooks.partner.example:{receiver.port}/gtac")
        assert move(client, tokens["gtac"], make_sr(app, "assigned"), "in_progress").status_code == 200
    finally:
        app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = False
    # The request names the partner's host, though the socket went to the address checked for it.
    assert receiver.hits == [{"host": f"hooks.partner.example:{receiver.port}", "path": "/gtac"}]
    [delivered] = deliveries_of(client, tokens, hook.json["id"])
    assert (delivered["status"], delivered["last_status_code"]) == ("delivered", 200)


def test_environment_proxies_are_not_used(app, client, tokens, receiver, monkeypatch):
    # A proxy would resolve the name itself, out of the check's sight; it does not exist either.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("no_proxy", "")
    app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        register(client, tokens, f"http://127.0.0.1:{receiver.port}/gtac")
        assert move(client, tokens["gtac"], make_sr(app, "assigned"), "in_progress").status_code == 200
    finally:
        app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = False
    assert receiver.hits == [{"host": f"127.0.0.1:{receiver.port}", "path": "/gtac"}]


class RedirectingReceiver(CountingReceiver):
    def __call__(self, environ, start_response):
        with self.lock:
            self.hits.append({"host": environ.get("HTTP_HOST"), "path": environ.get("PATH_INFO")})
        if environ.get("PATH_INFO") == "/gtac":
            start_response("307 Temporary Redirect", [("Location", "/elsewhere")])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def test_a_redirect_is_not_followed(app, client, tokens):
    endpoint = RedirectingReceiver()
    url, stop = serve(endpoint)
    app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        hook = register(client, tokens, url + "/gtac").json
        assert move(client, tokens["gtac"], make_sr(app, "assigned"), "in_progress").status_code == 200
    finally:
        app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = False
        stop()
    assert [hit["path"] for hit in endpoint.hits] == ["/gtac"]
    [delivery] = deliveries_of(client, tokens, hook["id"])
    assert (delivery["status"], delivery["last_status_code"], delivery["last_error"]) == ("pending", 307, "HTTP 307")


# --- TLS: the socket goes to the checked address, the certificate is checked against the name ---

def test_tls_checks_the_certificate_and_sni_against_the_name_not_the_address(app, client, tokens, tmp_path,
                                                                           monkeypatch):
    ca_file, context = throwaway_certificate(tmp_path, "hooks.partner.example")
    server_names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    endpoint = CountingReceiver()
    url, stop = serve(endpoint, ssl_context=context)
    port = int(url.rsplit(":", 1)[1])
    resolver = RebindingDNS()
    resolver.answers["hooks.partner.example"] = ["127.0.0.1"]
    resolver.answers["wrong.partner.example"] = ["127.0.0.1"]
    monkeypatch.setattr(socket, "getaddrinfo", resolver.getaddrinfo)
    pinned_session = webhook_urls.session

    def trusting_the_test_ca():
        http = pinned_session()
        http.verify = ca_file  # the partner's certificate comes from the test's CA, not a public one
        return http

    monkeypatch.setattr(webhook_urls, "session", trusting_the_test_ca)
    app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        good = register(client, tokens, f"https://hooks.partner.example:{port}/gtac").json
        assert move(client, tokens["gtac"], make_sr(app, "assigned"), "in_progress").status_code == 200
        [delivered] = deliveries_of(client, tokens, good["id"])
        assert (delivered["status"], delivered["last_status_code"]) == ("delivered", 200)
        assert server_names == ["hooks.partner.example"]
        assert endpoint.hits == [{"host": f"hooks.partner.example:{port}", "path": "/gtac"}]

        # Same address, same server, but a name the certificate does not cover: refused by TLS.
        client.delete(f"/api/v1/webhooks/{good['id']}", headers=tokens["admin"])
        wrong = register(client, tokens, f"https://wrong.partner.example:{port}/gtac").json
        assert move(client, tokens["gtac"], make_sr(app, "assigned"), "in_progress").status_code == 200
        [failed] = deliveries_of(client, tokens, wrong["id"])
        assert failed["status"] == "pending" and failed["last_status_code"] is None
        assert "SSLError" in failed["last_error"] and "wrong.partner.example" in failed["last_error"]
        assert len(endpoint.hits) == 1
    finally:
        app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = False
        stop()

# --- secrets at rest ---------------------------------------------------------------------------

def test_the_secret_is_stored_encrypted_with_the_configured_key_and_shown_once(app, client, tokens, dns):
    dns["hooks.partner.example"] = [PUBLIC]
    key = Fernet.generate_key().decode()
    saved = app.config["SR_WEBHOOK_SECRET_KEYS"]
    app.config["SR_WEBHOOK_SECRET_KEYS"] = [key]
    try:
        hook = register(client, tokens, "https://hooks.partner.example/gtac").json
        with app.app_context():
            stored = db.session.get(Webhook, hook["id"]).secret_ciphertext
            raw_row = db.session.execute(sa.text("SELECT * FROM partner_webhooks")).mappings().one()
        assert hook["secret"] not in stored and hook["secret"] not in str(dict(raw_row))
        assert Fernet(key).decrypt(stored.encode()).decode() == hook["secret"]
        for path in ("/api/v1/webhooks", f"/api/v1/webhooks/{hook['id']}/deliveries"):
            assert hook["secret"] not in client.get(path, headers=tokens["admin"]).get_data(as_text=True)

        # A new key goes first; rotation re-encrypts under it and the old key can be dropped.
        new_key = Fernet.generate_key().decode()
        app.config["SR_WEBHOOK_SECRET_KEYS"] = [new_key, key]
        assert app.test_cli_runner().invoke(args=["srs", "rotate-webhook-key"]).output.startswith("re-encrypted 1")
        app.config["SR_WEBHOOK_SECRET_KEYS"] = [new_key]
        with app.app_context():
            rotated = db.session.get(Webhook, hook["id"]).secret_ciphertext
            assert webhooks.unseal(rotated) == hook["secret"]
        with pytest.raises(InvalidToken):
            Fernet(key).decrypt(rotated.encode())
    finally:
        app.config["SR_WEBHOOK_SECRET_KEYS"] = saved


def test_a_secret_no_key_decrypts_fails_the_attempt_and_says_why(app, client, tokens, dns, no_http):
    dns["hooks.partner.example"] = [PUBLIC]
    hook = register(client, tokens, "https://hooks.partner.example/gtac").json
    saved = app.config["SR_WEBHOOK_SECRET_KEYS"]
    app.config["SR_WEBHOOK_SECRET_KEYS"] = [Fernet.generate_key().decode()]  # the old key was lost
    try:
        number = make_sr(app, "assigned")
        assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    finally:
        app.config["SR_WEBHOOK_SECRET_KEYS"] = saved
    assert no_http == []
    with app.app_context():
        delivery = db.session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.topic == "sr.status")).one()
        assert "SR_WEBHOOK_SECRET_KEYS" in delivery.last_error and delivery.webhook_id == hook["id"]


def test_production_needs_webhook_keys_and_refuses_a_malformed_one(tmp_path):
    production = {"GTAC_ENV": "production", "SECRET_KEY": "s", "DATABASE_URL": "postgresql://db/x",
                  "PAYMENTS_WEBHOOK_SECRET": "p", "PAYEE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                  "INTEGRATION_SECRET_KEYS": Fernet.generate_key().decode()}
    with pytest.raises(ConfigError, match="SR_WEBHOOK_SECRET_KEYS"):
        load_config(str(tmp_path), production)
    with pytest.raises(ConfigError, match="SR_WEBHOOK_SECRET_KEYS"):
        load_config(str(tmp_path), {**production, "SR_WEBHOOK_SECRET_KEYS": "not-a-key"})
    key = Fernet.generate_key().decode()
    assert load_config(str(tmp_path), {**production, "SR_WEBHOOK_SECRET_KEYS": key})["SR_WEBHOOK_SECRET_KEYS"] == [key]


def test_the_migration_encrypts_existing_secrets_and_the_downgrade_restores_them(empty_database):  # noqa: F811
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with empty_database.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO organisations (id, name, kind, tier, region, created_at) "
                "VALUES (1, 'Northwind', 'partner', 'PWP', 'EMEA', :at)"), {"at": at})
            connection.execute(sa.text(
                "INSERT INTO users (id, email, name, password_hash, role, organisation_id, active, created_at) "
                "VALUES (1, 'a@n.example', 'A', 'x', 'partner_admin', 1, true, :at)"), {"at": at})
            connection.execute(sa.text(
                "INSERT INTO partner_webhooks (id, partner_id, url, secret, active, created_by_id, created_at) "
                "VALUES (1, 1, 'https://hooks.partner.example/gtac', 'the-old-clear-secret', true, 1, :at)"),
                {"at": at})
        upgrade()
        with db.engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("partner_webhooks")}
            stored = connection.execute(sa.text("SELECT secret_ciphertext FROM partner_webhooks")).scalar_one()
        assert "secret" not in columns and "the-old-clear-secret" not in stored
        assert webhooks.unseal(stored) == "the-old-clear-secret"
        downgrade(revision="0007")
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT secret FROM partner_webhooks")).scalar_one() == \
                "the-old-clear-secret"
