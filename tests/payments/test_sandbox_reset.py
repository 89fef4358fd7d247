"""A sandbox reset is a clean slate: no webhook about a payout of before it reaches the service
once the reset has returned. The payments tests reset the sandbox between tests while payout
references restart with the database's ids, so a late webhook would pay the next test's payout."""
from __future__ import annotations

import json
import sys
import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sandbox import app as sandbox_app
from sandbox.app import Sandbox


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


ROUNDS = 300


def test_no_webhook_about_a_payout_of_before_a_reset_arrives_after_it():
    arrivals: list[tuple[float, bytes]] = []

    def receiver(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        arrivals.append((time.monotonic(), body))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    server = make_server("127.0.0.1", 0, receiver, server_class=_ThreadingServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sandbox = Sandbox(api_key="k", webhook_url=f"http://127.0.0.1:{server.server_port}/", webhook_secret="s",
                      settle_after=0, webhook_concurrency=8)
    # Threads switch far more often than Python's default, so that a gap of a few bytecodes between
    # a delivery thread reading the generation and counting itself as under way is often hit.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    resets: list[tuple[str, float]] = []
    try:
        for round_ in range(ROUNDS):
            tag = f"R{round_:03d}-"
            for n in range(4):
                sandbox.create(f"{tag}{n}", {"amount": 100, "currency": "USD"})
            # The settler queues their webhooks within 20 ms: the reset comes before, while or after
            # delivery threads take them.
            time.sleep((round_ % 26) / 1000)
            ended, unanswered = sandbox.reset()
            assert ended, "a delivery about the old payouts outlasted the longest one can take"
            assert unanswered == []
            resets.append((tag, time.monotonic()))
        time.sleep(1.5)  # whatever was still to come has come
    finally:
        sys.setswitchinterval(interval)
        sandbox.stop()
        server.shutdown()
    late = [(tag, body[:120]) for tag, returned in resets for at, body in arrivals
            if at > returned and f'"reference": "{tag}'.encode() in body]
    assert arrivals, "the sandbox sent no webhook at all: the test proves nothing"
    assert late == []


def test_a_reset_names_the_webhooks_the_service_took_too_long_to_answer(monkeypatch):
    # The service may still apply such a webhook after the reset, about a payout whose reference the
    # next test's payout carries: the payments tests' fixture waits until the service has recorded it.
    monkeypatch.setattr(sandbox_app, "DELIVERY_TIMEOUT", 0.3)
    received, release = [], threading.Event()

    def slow_receiver(environ, start_response):
        received.append(json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))))
        release.wait(10)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    server = make_server("127.0.0.1", 0, slow_receiver, server_class=_ThreadingServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sandbox = Sandbox(api_key="k", webhook_url=f"http://127.0.0.1:{server.server_port}/", webhook_secret="s",
                      settle_after=0)
    try:
        sandbox.create("PO0000000001", {"amount": 100, "currency": "USD"})
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert received, "the sandbox sent no webhook"
        time.sleep(0.6)  # its try has timed out; the next waits its pause
        ended, unanswered = sandbox.reset()
        assert ended and unanswered == [received[0]["id"]]
        assert sandbox.reset() == (True, [])  # said once
    finally:
        release.set()
        sandbox.stop()
        server.shutdown()
