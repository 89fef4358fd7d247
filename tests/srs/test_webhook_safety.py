"""Webhook URLs go to public addresses only (at registration and at every attempt), and their signing
secrets are stored encrypted, shown in clear once."""
from __future__ import annotations

import socket
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask_migrate import downgrade, upgrade

from app.config import ConfigError, load_config
from app.extensions import db
from app.srs import webhook_urls, webhooks
from app.srs.models import Webhook, WebhookDelivery
from tests.integration.test_migrations import empty_database  # noqa: F401  (a database of its own)
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


@pytest.fixture
def no_http(monkeypatch):
    """Records any request the delivery would send, and sends none."""
    sent: list[str] = []

    def post(url, **kwargs):
        sent.append(url)
        raise AssertionError("a refused webhook must not be called")

    monkeypatch.setattr(webhooks.requests, "post", post)
    return sent


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
                  "PAYMENTS_WEBHOOK_SECRET": "p", "PAYEE_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
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
