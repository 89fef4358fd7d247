"""A small programme platform for the tests: it signs and pushes claims over HTTP, and receives the
signed status callbacks on its own loopback server, where it can refuse or hold them back."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from app.payments import signing

ID_HEADER, SIGNATURE_HEADER = "X-GTAC-Integration", "X-GTAC-Signature"


class PlatformClient:
    """Pushes claims to /api/v1/integrations/claims as the integration, signing each body."""

    def __init__(self, base_url: str, integration_id: int, secret: str):
        self.base_url, self.integration_id, self.secret = base_url, integration_id, secret
        self.http = requests.Session()

    def push(self, claim: dict, *, timeout: float = 10, secret: str | None = None, timestamp: int | None = None,
             body: bytes | None = None) -> requests.Response:
        raw = body if body is not None else json.dumps(claim).encode()
        headers = {"Content-Type": "application/json", ID_HEADER: str(self.integration_id),
                   SIGNATURE_HEADER: signing.sign(secret or self.secret, raw, timestamp)}
        return self.http.post(f"{self.base_url}/api/v1/integrations/claims", data=raw, headers=headers,
                              timeout=timeout)


class CallbackReceiver:
    """The platform's callback endpoint: keeps every verified callback; refuses the next
    `refuse_next` with 503, and holds the next `hold_next` for `hold_seconds` (a timeout)."""

    def __init__(self, secret: str = "", tls=None):
        self.secret = secret
        self.received: list[dict] = []  # acknowledged, verified callbacks
        self.refused: list[dict] = []
        self.unsigned = 0
        self.refuse_next = 0
        self.hold_next = 0
        self.hold_seconds = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._answer(self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:  # (server TLS context, host name its certificate names)
            self.server.socket = tls[0].wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        scheme, host = ("https", tls[1]) if tls is not None else ("http", "127.0.0.1")
        self.url = f"{scheme}://{host}:{self.server.server_port}/gtac/callbacks"

    def _answer(self, headers, body: bytes) -> int:
        try:
            valid = signing.verify(self.secret, body, headers.get(SIGNATURE_HEADER))
        except signing.MalformedSignature:
            valid = False
        if not valid:
            with self.lock:
                self.unsigned += 1
            return 401
        event = json.loads(body)
        with self.lock:
            hold = self.hold_next > 0
            if hold:
                self.hold_next -= 1
            refuse = not hold and self.refuse_next > 0
            if refuse:
                self.refuse_next -= 1
                self.refused.append(event)
        if hold:
            time.sleep(self.hold_seconds)
            return 200  # too late: the sender gave up already
        if refuse:
            return 503
        with self.lock:
            self.received.append(event)
        return 200

    def events_for(self, reference: str) -> list[dict]:
        with self.lock:
            return [e for e in self.received if e["data"]["reference"] == reference]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
