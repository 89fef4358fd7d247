"""An integration's signing secret: stored encrypted, shown once, re-encrypted under a new key."""
from __future__ import annotations

import sqlalchemy as sa
from cryptography.fernet import Fernet

from app import crypto
from app.extensions import db
from app.integrations.models import Integration
from tests.integrations.conftest import claim


def test_the_secret_is_stored_encrypted_and_survives_a_key_rotation(platform, sandbox, partners, app,
                                                                   monkeypatch):
    with app.app_context():
        stored = db.session.scalar(sa.select(Integration.secret_ciphertext))
        old = crypto.keys("INTEGRATION_SECRET_KEYS", "integration-secret")  # the demo's derived key
        db.session.remove()
    assert platform.secret not in stored
    monkeypatch.setitem(app.config, "INTEGRATION_SECRET_KEYS", [Fernet.generate_key().decode(), *old])
    rotated = app.test_cli_runner().invoke(args=["integrations", "rotate-key"])
    assert rotated.exit_code == 0 and "re-encrypted 2 integration secrets" in rotated.output  # the demo's and this one
    monkeypatch.setitem(app.config, "INTEGRATION_SECRET_KEYS", app.config["INTEGRATION_SECRET_KEYS"][:1])
    with app.app_context():
        assert db.session.scalar(sa.select(Integration.secret_ciphertext)) != stored
        db.session.remove()
    # Only the new key is left, and the platform's signature is still recognised.
    assert platform.push(claim("CLM-KEY-1", partners["northwind"])).status_code == 201
