"""Every answer forbids framing and inline script and keeps its address to itself; pages are not stored."""
from __future__ import annotations

import re
from pathlib import Path

from cryptography.fernet import Fernet

from app.config import load_config
from tests.web.helpers import sign_in

APP = Path(__file__).resolve().parents[2] / "app"


def directives(answer) -> dict[str, str]:
    policy = answer.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def assert_not_framable(answer) -> None:
    assert directives(answer)["frame-ancestors"] == "frame-ancestors 'none'"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "same-origin"


def test_pages_forbid_framing_and_inline_script_and_are_not_stored(client, demo):
    anonymous = client.get("/login")
    sign_in(client, "programs")
    for answer in (anonymous, client.get("/payments/programmes"), client.get("/api/v1/docs"),
                   client.get("/no-such-page")):
        assert_not_framable(answer)
        policy = directives(answer)
        assert policy["script-src"] == "script-src 'self'"
        assert policy["style-src"] == "style-src 'self'"
        assert "unsafe-inline" not in answer.headers["Content-Security-Policy"]
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_api_and_other_answers_forbid_framing_and_load_nothing(client, tokens):
    for answer in (client.get("/api/v1/me", headers=tokens["engineer"]), client.get("/api/v1/me"),
                   client.get("/api/v1/openapi.json"), client.get("/healthz")):
        assert_not_framable(answer)
        assert directives(answer)["default-src"] == "default-src 'none'"


def test_static_files_stay_cacheable(client, demo):
    sign_in(client, "engineer")
    answer = client.get("/static/app.css")
    assert answer.status_code == 200
    assert answer.headers.get("Cache-Control") != "no-store"
    assert_not_framable(answer)


def test_hsts_in_production_only(app, client, monkeypatch, tmp_path):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    production = load_config(str(tmp_path), {
        "GTAC_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://db/gtac",
        "PAYMENTS_WEBHOOK_SECRET": "w" * 40, "PAYEE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SR_WEBHOOK_SECRET_KEYS": Fernet.generate_key().decode(),
        "INTEGRATION_SECRET_KEYS": Fernet.generate_key().decode()})
    assert production["HSTS_SECONDS"] >= 180 * 24 * 3600
    monkeypatch.setitem(app.config, "HSTS_SECONDS", production["HSTS_SECONDS"])
    for path in ("/login", "/api/v1/openapi.json"):
        assert client.get(path).headers["Strict-Transport-Security"] == (
            f"max-age={production['HSTS_SECONDS']}; includeSubDomains")


def test_templates_have_no_inline_script_handler_or_style():
    """What the policy would refuse in a browser, found before one runs."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b|javascript:", re.I)
    found = [f"{path.relative_to(APP)}:{text[:match.start()].count(chr(10)) + 1}: {match.group(0).strip()}"
             for path in APP.rglob("*.html") for text in [path.read_text()] for match in inline.finditer(text)]
    assert found == []
