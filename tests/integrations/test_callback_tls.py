"""Callbacks over https to a platform whose certificate comes from the vendor's own CA: refused
until INTEGRATION_CALLBACK_CA_BUNDLE names that CA, then delivered."""
from __future__ import annotations

from tests.certificates import throwaway_certificate
from tests.integrations.conftest import claim
from tests.integrations.platform import CallbackReceiver, PlatformClient
from tests.integrations.test_push_round_trip import _deliveries, _retry_due_callbacks
from tests.payments.conftest import pipeline_state, wait_until


def test_a_callback_to_a_platform_behind_the_vendors_ca(app, client, tokens, sandbox, partners, live_server,
                                                        tmp_path, monkeypatch):
    ca_file, context = throwaway_certificate(tmp_path, "localhost")
    receiver = CallbackReceiver(tls=(context, "localhost"))
    try:
        monkeypatch.setitem(app.config, "SR_WEBHOOK_ALLOW_PRIVATE", True)
        registered = client.post("/api/v1/integrations", headers=tokens["programs"],
                                 json={"name": "Internal platform", "callback_url": receiver.url}).json
        receiver.secret = registered["secret"]
        platform = PlatformClient(live_server, registered["id"], registered["secret"])
        sandbox.faults(settle_after=0.2)
        assert platform.push(claim("CLM-TLS-1", partners["northwind"])).status_code == 201
        wait_until(lambda: (d := _deliveries(app)) and d[0].last_error, what="the first callback attempt",
                   explain=lambda: f"callbacks: {[(d.status, d.attempts) for d in _deliveries(app)]}\n"
                                   + pipeline_state(app, sandbox))
        assert "CERTIFICATE_VERIFY_FAILED" in _deliveries(app)[0].last_error
        assert receiver.received == []

        monkeypatch.setitem(app.config, "INTEGRATION_CALLBACK_CA_BUNDLE", ca_file)
        assert _retry_due_callbacks(app, monkeypatch) == 1
        assert [e["type"] for e in receiver.events_for("CLM-TLS-1")] == ["claim.paid"]
    finally:
        receiver.stop()
