"""Integration fixtures: the app on loopback with the sandbox provider (tests.payments), a
registered claims platform with its callback receiver, and the partners' ids."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import Organisation
from app.extensions import db
from tests.integrations.platform import CallbackReceiver, PlatformClient
from tests.payments.conftest import payments, sandbox, sandbox_process, signed_in  # noqa: F401  (fixtures)


@pytest.fixture
def partners(app, demo) -> dict[str, int]:
    with app.app_context():
        ids = dict(db.session.execute(sa.select(Organisation.name, Organisation.id)).all())
        db.session.remove()
    return {"northwind": ids["Northwind Networks"], "contoso": ids["Contoso Integrators"],
            "acme": ids["Acme Corp"]}


@pytest.fixture
def receiver():
    platform_side = CallbackReceiver()
    yield platform_side
    platform_side.stop()


@pytest.fixture
def platform(app, client, tokens, receiver, live_server, monkeypatch):
    """The programme platform, registered by the programmes team, pushing over HTTP to the live server."""
    monkeypatch.setitem(app.config, "SR_WEBHOOK_ALLOW_PRIVATE", True)  # the receiver is on loopback
    monkeypatch.setitem(app.config, "INTEGRATION_CALLBACK_TIMEOUT_SECONDS", 1)
    answer = client.post("/api/v1/integrations", headers=tokens["programs"],
                         json={"name": "Programme platform", "callback_url": receiver.url})
    assert answer.status_code == 201, answer.json
    receiver.secret = answer.json["secret"]
    return PlatformClient(live_server, answer.json["id"], answer.json["secret"])


def claim(reference: str, partner_id: int, amount: int = 125_000, **overrides) -> dict:
    return {"reference": reference, "partner_id": partner_id, "type": "rebate", "amount": amount,
            "currency": "USD", "period": "2026-Q3", "description": f"Growth Rebate {reference}", **overrides}
