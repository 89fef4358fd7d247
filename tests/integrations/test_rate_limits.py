"""Rate limits per integration: each claims platform has its own allowance of signed requests."""
from __future__ import annotations

import json

import pytest

from app import create_app
from app.extensions import db
from app.payments import signing
from tests.integrations.conftest import claim


@pytest.fixture
def limited_app(app, sandbox, tmp_path, monkeypatch):
    shared = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PAYMENTS_SANDBOX_URL",
                                               "PAYMENTS_SANDBOX_API_KEY", "PAYMENTS_WEBHOOK_SECRET")}
    process = create_app({**shared,
                          "RATE_LIMITS_ENABLED": True, "RATE_LIMIT_PER_INTEGRATION": "3 per minute",
                          "SR_WEBHOOK_ALLOW_PRIVATE": True},
                         instance_path=str(tmp_path / "limited"))
    process.extensions["outbox_dispatch"] = app.extensions["outbox_dispatch"]
    monkeypatch.setitem(app.config, "SR_WEBHOOK_ALLOW_PRIVATE", True)
    yield process
    with process.app_context():
        db.engine.dispose()


def _register(client, tokens, name):
    answer = client.post("/api/v1/integrations", headers=tokens["programs"],
                         json={"name": name, "callback_url": "http://127.0.0.1:9/callbacks"})
    assert answer.status_code == 201, answer.json
    return answer.json["id"], answer.json["secret"]


def _push(client, integration, body):
    integration_id, secret = integration
    raw = json.dumps(body).encode()
    return client.post("/api/v1/integrations/claims", data=raw, content_type="application/json",
                       headers={"X-GTAC-Integration": str(integration_id),
                                "X-GTAC-Signature": signing.sign(secret, raw)})


def test_each_integration_is_limited_on_its_own(limited_app, tokens, partners):
    client = limited_app.test_client()
    first = _register(client, tokens, "First platform")
    second = _register(client, tokens, "Second platform")
    for n in range(3):
        assert _push(client, first, claim(f"CLM-L-{n}", partners["northwind"], amount=100 + n)).status_code == 201
    refused = _push(client, first, claim("CLM-L-3", partners["northwind"]))
    assert refused.status_code == 429
    error = refused.json["error"]
    assert error["code"] == "rate_limited" and error["details"]["limit"] == "3 per 1 minute"
    assert refused.headers["Retry-After"]
    # The other platform, at the same address, still has its allowance.
    assert _push(client, second, claim("CLM-L-3", partners["northwind"])).status_code == 201
