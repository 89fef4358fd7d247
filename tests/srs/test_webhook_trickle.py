"""A partner's receiver that trickles its answer stalls nobody but its own delivery (on either database)."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from app.extensions import db
from app.outbox.dispatch import EagerDispatcher
from app.webhooks.models import WebhookDelivery
from tests.srs.helpers import make_sr
from tests.trickling import TricklingServer

DEADLINE = 3
FAST = 1.0  # what another tenant's request may take while the slow delivery is under way


@pytest.fixture
def trickler(app):
    saved = (app.config["SR_WEBHOOK_ALLOW_PRIVATE"], app.config["SR_WEBHOOK_TIMEOUT_SECONDS"])
    app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = True  # the receiver listens on loopback
    app.config["SR_WEBHOOK_TIMEOUT_SECONDS"] = DEADLINE
    receiver = TricklingServer(pause=0.5, path="/hooks", body_bytes=100)
    yield receiver
    receiver.close()
    app.config["SR_WEBHOOK_ALLOW_PRIVATE"], app.config["SR_WEBHOOK_TIMEOUT_SECONDS"] = saved


@pytest.fixture
def jobs_in_the_request(app, monkeypatch):
    """The delivery runs right after the commit in the request's own thread, the harshest place for
    it. (The suite's RQ path would make every other commit wait for the queues to settle, the
    trickling job included, which no production request does.)"""
    monkeypatch.setitem(app.extensions, "outbox_dispatch", EagerDispatcher())


@pytest.mark.usefixtures("jobs_in_the_request")
def test_other_tenants_stay_fast_while_a_receiver_trickles(app, client, tokens, live_server, trickler):
    assert client.post("/api/v1/webhooks", json={"url": trickler.url}, headers=tokens["admin"]).status_code == 201
    number = make_sr(app, "assigned")

    def slow_change():
        # GTAC's move makes an SR event whose delivery goes to the trickling receiver (in this
        # request's thread: the test suite runs jobs right after the commit).
        started = time.monotonic()
        answer = requests.post(f"{live_server}/api/v1/srs/{number}/transitions", json={"to": "in_progress"},
                               headers=tokens["gtac"], timeout=30)
        return answer.status_code, time.monotonic() - started

    def timed(method, path, who, **kwargs):
        started = time.monotonic()
        answer = requests.request(method, f"{live_server}{path}", headers=tokens[who], timeout=30, **kwargs)
        return answer.status_code, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=1) as pool:
        change = pool.submit(slow_change)
        assert trickler.connected.wait(timeout=10), "the delivery never reached the receiver"
        # Another tenant reads and writes while the delivery trickles; GTAC lists its queue.
        others = [timed("GET", "/api/v1/cases", "contoso"),
                  timed("POST", "/api/v1/cases", "contoso",
                        json={"serial_number": "FAB-0001", "software_version": "8.10.1.0", "severity": "S3",
                              "title": "Port LED stays amber", "description": "Since the last reboot."}),
                  timed("GET", "/api/v1/srs", "gtac"),
                  timed("GET", "/healthz", "contoso")]
        assert not change.done(), "the slow delivery ended before the other requests were made"
        status, took = change.result(timeout=30)
    assert status == 200
    assert DEADLINE - 0.5 <= took < DEADLINE + 5, took  # cut off at the deadline, not when the receiver ends
    assert [code for code, _ in others] == [200, 201, 200, 200]
    assert all(seconds < FAST for _, seconds in others), others
    with app.app_context():
        delivery = db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id.desc())).first()
        assert delivery.status.value == "pending" and "DeadlineExceeded" in delivery.last_error
