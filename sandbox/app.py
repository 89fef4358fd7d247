"""A sandbox payments provider: a tiny stand-alone app speaking the provider protocol.

It keeps payouts in memory, honours idempotency keys, settles each payout after
a delay and reports it with signed webhooks. Faults can be switched on over
HTTP (POST /v1/_faults) so that tests exercise the integration for real:
5xx answers, answers slower than the client's timeout (after the payout was
created), failed payouts, duplicate webhooks and late returns.

Every payout-creating request is recorded as it arrives, item by item for a
batch, with what it was answered, refusals included (GET /v1/_attempts): so
that tests can assert on what the service really sent, not only on the
payouts the provider kept after merging repeats of a key.
"""
from __future__ import annotations

import collections
import csv
import heapq
import io
import itertools
import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field

import requests
from flask import Flask, Response, g, jsonify, request

from app.payments.signing import HEADER, sign

log = logging.getLogger("sandbox")

# A webhook delivery is tried after each of these pauses, each try given DELIVERY_TIMEOUT seconds.
DELIVERY_PAUSES = (0, 0.5, 2, 5)
DELIVERY_TIMEOUT = 10
LONGEST_DELIVERY = sum(DELIVERY_PAUSES) + len(DELIVERY_PAUSES) * DELIVERY_TIMEOUT + 5


@dataclass
class Faults:
    error_next_creates: int = 0  # answer 503 without creating anything
    slow_next_creates: int = 0  # create, then answer after `slow_seconds` (client times out)
    slow_seconds: float = 3.0
    fail_next_payouts: int = 0  # the payout fails instead of paying
    return_next_payouts: int = 0  # paid, then returned `return_after` seconds later
    return_after: float = 0.5
    duplicate_webhooks: bool = False  # every webhook is delivered twice
    webhooks_enabled: bool = True
    webhook_batch: int = 1  # up to this many events per delivery, as {"events": [...]} when above 1


@dataclass
class SandboxPayout:
    id: str
    reference: str
    amount: int
    currency: str
    payee: dict = field(repr=False)
    status: str = "processing"
    created_at: float = field(default_factory=time.time)
    settle_at: float = 0.0
    fate: str = "paid"  # what settlement will do: paid, failed, returned
    return_at: float | None = None
    failure_reason: str | None = None
    return_reason: str | None = None
    updated_at: float = field(default_factory=time.time)

    def public(self) -> dict:
        data = asdict(self)
        data.pop("payee")
        data.pop("fate")
        data.pop("settle_at")
        data.pop("return_at")
        return data


@dataclass
class Attempt:
    """One payout instruction as received (a batch item is one), and the answer it got."""

    sequence: int
    endpoint: str  # "/v1/payouts" or "/v1/payout-batches"
    idempotency_key: str
    body: object  # the request's JSON (a batch: this item), as sent
    received_at: float = field(default_factory=time.time)
    status: int | None = None  # HTTP status answered (a batch item: its own); None while not yet answered
    answer: object = None  # the JSON answered (a batch item: its result)
    answered_at: float | None = None


class Sandbox:
    """State and behaviour of the provider, separate from its HTTP surface."""

    def __init__(self, *, api_key: str, webhook_url: str | None, webhook_secret: str,
                 settle_after: float, webhook_concurrency: int = 4, webhook_batch: int = 1):
        self.api_key = api_key
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.settle_after = self.default_settle_after = settle_after
        self.default_webhook_batch = webhook_batch
        self.faults = Faults(webhook_batch=webhook_batch)
        self.lock = threading.Lock()
        self.payouts: dict[str, SandboxPayout] = {}
        self.by_reference: dict[str, str] = {}
        self.attempts: list[Attempt] = []
        self.webhooks_sent = 0
        self.webhooks_failed = 0
        self.generation = 0
        # Deliveries under way, by generation: a reset waits for the older ones (see reset()).
        self._delivering: collections.Counter[int] = collections.Counter()
        # Events whose last try was sent and got no answer in time: the service may still apply them.
        self._unanswered: set[str] = set()
        self._delivered = threading.Condition()
        self._due: list[tuple[float, int, str]] = []  # (when, sequence, payout id): settlements and returns
        self._sequence = itertools.count()
        self._event_ids = itertools.count(1)
        self._outgoing: queue.Queue[tuple[dict, int]] = queue.Queue()  # (event, generation)
        self._stop = threading.Event()
        self._local = threading.local()
        self._settler = threading.Thread(target=self._settle_loop, name="settler", daemon=True)
        self._settler.start()
        # Each delivery thread sends whatever has queued up meanwhile (up to webhook_batch
        # events), so deliveries grow with the load rather than their number.
        for n in range(webhook_concurrency):
            threading.Thread(target=self._delivery_loop, name=f"webhook-{n}", daemon=True).start()

    def _take(self, name: str) -> bool:
        left = getattr(self.faults, name)
        if left > 0:
            setattr(self.faults, name, left - 1)
            return True
        return False

    def _take_locked(self, name: str) -> bool:
        with self.lock:
            return self._take(name)

    def create(self, key: str, body: dict) -> tuple[SandboxPayout, bool, float]:
        """(payout, created now?, delay before answering); raises LookupError on key reuse."""
        with self.lock:
            return self._create(key, body)

    def _create(self, key: str, body: dict) -> tuple[SandboxPayout, bool, float]:
        existing_id = self.by_reference.get(key)
        if existing_id is not None:
            existing = self.payouts[existing_id]
            if (existing.amount, existing.currency) != (body["amount"], body["currency"]):
                raise LookupError("idempotency key reused with another body")
            return existing, False, 0.0
        fate = "paid"
        if self._take("fail_next_payouts"):
            fate = "failed"
        elif self._take("return_next_payouts"):
            fate = "returned"
        payout = SandboxPayout(id="sbx_" + uuid.uuid4().hex[:20], reference=key, amount=body["amount"],
                               currency=body["currency"], payee=body.get("payee") or {},
                               settle_at=time.time() + self.settle_after, fate=fate)
        self.payouts[payout.id] = payout
        self.by_reference[key] = payout.id
        heapq.heappush(self._due, (payout.settle_at, next(self._sequence), payout.id))
        delay = self.faults.slow_seconds if self._take("slow_next_creates") else 0.0
        return payout, True, delay

    def receive(self, endpoint: str, instructions: list[tuple[str, object]]) -> list[Attempt]:
        """Record instructions (key, body) on arrival, before anything may refuse them."""
        with self.lock:
            received = [Attempt(sequence=len(self.attempts) + n, endpoint=endpoint, idempotency_key=key, body=body)
                        for n, (key, body) in enumerate(instructions)]
            self.attempts.extend(received)
            return received

    def answered(self, attempt: Attempt, status: int, answer: object) -> None:
        with self.lock:
            attempt.status, attempt.answer, attempt.answered_at = status, answer, time.time()

    def attempts_seen(self, key: str | None = None) -> list[dict]:
        with self.lock:
            return [asdict(a) for a in self.attempts if key is None or a.idempotency_key == key]

    def _settle_loop(self) -> None:
        while not self._stop.wait(0.02):
            now = time.time()
            events = []
            with self.lock:
                while self._due and self._due[0][0] <= now:
                    _, _, payout_id = heapq.heappop(self._due)
                    payout = self.payouts.get(payout_id)
                    if payout is None:
                        continue
                    if payout.status == "processing":
                        if payout.fate == "failed":
                            payout.status, payout.failure_reason = "failed", "Beneficiary account closed."
                            events.append(("payout.failed", payout, payout.failure_reason))
                        else:
                            payout.status = "paid"
                            events.append(("payout.paid", payout, None))
                            if payout.fate == "returned":
                                payout.return_at = now + self.faults.return_after
                                heapq.heappush(self._due, (payout.return_at, next(self._sequence), payout.id))
                        payout.updated_at = now
                    elif payout.status == "paid" and payout.return_at:
                        payout.status, payout.return_reason = "returned", "Recalled by the beneficiary bank."
                        payout.return_at = None
                        payout.updated_at = now
                        events.append(("payout.returned", payout, payout.return_reason))
                copies = 2 if self.faults.duplicate_webhooks else 1
                enabled = self.faults.webhooks_enabled
                generation = self.generation
            for kind, payout, reason in events:
                if enabled and self.webhook_url:
                    event = {"id": f"evt_{next(self._event_ids)}_{uuid.uuid4().hex[:8]}", "type": kind,
                             "created": int(now),
                             "data": {"id": payout.id, "reference": payout.reference, "amount": payout.amount,
                                      "currency": payout.currency, "status": payout.status, "reason": reason}}
                    for _ in range(copies):
                        self._outgoing.put((event, generation))

    def _http(self) -> requests.Session:
        """One keep-alive connection per delivery thread."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _delivery_loop(self) -> None:
        while not self._stop.is_set():
            try:
                batch = [self._outgoing.get(timeout=0.5)]
            except queue.Empty:
                continue
            while len(batch) < max(self.faults.webhook_batch, 1):
                try:
                    batch.append(self._outgoing.get_nowait())
                except queue.Empty:
                    break
            events, generation = self._take_for_delivery(batch)
            if events:
                try:
                    self._deliver_now(events, generation)
                finally:
                    with self._delivered:
                        self._delivering[generation] -= 1
                        self._delivered.notify_all()

    def _take_for_delivery(self, batch: list[tuple[dict, int]]) -> tuple[list[dict], int]:
        """The batch's events of the current generation, counted as under way in one step with
        reading the generation: a reset between the two would neither drop them nor wait for
        them, and they would reach the service about payouts of before the reset."""
        with self.lock:
            generation = self.generation
            events = [event for event, made_in in batch if made_in == generation]
            if events:
                with self._delivered:
                    self._delivering[generation] += 1
            return events, generation

    def _deliver_now(self, events: list[dict], generation: int) -> None:
        if self.faults.webhook_batch > 1:
            body = json.dumps({"events": events}).encode()
        else:
            body = json.dumps(events[0]).encode()
        ids = ", ".join(event["id"] for event in events)
        for pause in DELIVERY_PAUSES:
            time.sleep(pause)
            if generation != self.generation:
                return
            try:
                answer = self._http().post(self.webhook_url, data=body, timeout=DELIVERY_TIMEOUT, headers={
                    "Content-Type": "application/json", "Accept": "application/json",
                    HEADER: sign(self.webhook_secret, body)})
                if answer.status_code < 300:
                    with self.lock:
                        self._unanswered.difference_update(event["id"] for event in events)
                        self.webhooks_sent += len(events)
                    return
                log.warning("webhook %s answered %s", ids, answer.status_code)
            except requests.RequestException as exc:
                log.warning("webhook %s not delivered: %s", ids, exc)
                if isinstance(exc, requests.Timeout) and not isinstance(exc, requests.ConnectTimeout):
                    with self.lock:  # sent, and the service may be working on it still
                        self._unanswered.update(event["id"] for event in events)
        with self.lock:
            self.webhooks_failed += len(events)

    def reset(self) -> tuple[bool, list[str]]:
        """Forget every payout and fault; webhooks still queued for the old payouts are dropped.

        Returns whether every delivery about the old payouts has ended (False if one was still under
        way after the longest one can take: the caller cannot count on a clean slate then), and the
        events sent that got no answer in time: the service may apply them yet, and a caller about to
        reuse their references waits until it has."""
        with self.lock:
            self.generation += 1
            self.faults = Faults(webhook_batch=self.default_webhook_batch)
            self.settle_after = self.default_settle_after
            self.payouts.clear()
            self.by_reference.clear()
            self._due.clear()
            self.attempts.clear()
            self.webhooks_sent = self.webhooks_failed = 0
            generation = self.generation
        # A webhook already on the wire when the reset came would otherwise reach the service
        # afterwards, about a payout whose reference a new one may carry by then.
        with self._delivered:
            ended = self._delivered.wait_for(lambda: not any(
                count for older, count in self._delivering.items() if older < generation),
                timeout=LONGEST_DELIVERY)
        with self.lock:
            unanswered, self._unanswered = sorted(self._unanswered), set()
        return ended, unanswered

    def state(self) -> dict:
        with self.lock:
            return {"payouts": [p.public() for p in self.payouts.values()],
                    "attempts": len(self.attempts), "webhooks_sent": self.webhooks_sent,
                    "webhooks_failed": self.webhooks_failed, "faults": asdict(self.faults)}

    def stop(self) -> None:
        self._stop.set()


def create_sandbox_app(sandbox: Sandbox) -> Flask:
    app = Flask("sandbox")

    def _error(status: int, code: str, message: str):
        return jsonify({"error": {"code": code, "message": message}}), status

    def _instructions() -> list[tuple[str, object]]:
        """(idempotency key, body) of each instruction in this request, however malformed."""
        body = request.get_json(silent=True)
        if request.path == "/v1/payouts":
            return [(request.headers.get("Idempotency-Key", "").strip(), body)]
        items = body.get("payouts") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return [("", body)]
        return [(str(item.get("idempotency_key", "")).strip() if isinstance(item, dict) else "", item)
                for item in items]

    @app.before_request
    def _receive_and_authenticate():
        if request.method == "POST" and request.path in ("/v1/payouts", "/v1/payout-batches"):
            g.attempts = sandbox.receive(request.path, _instructions())
        if request.path.startswith("/v1/") and not request.path.startswith("/v1/_"):
            if request.headers.get("Authorization") != f"Bearer {sandbox.api_key}":
                return _error(401, "unauthorized", "bad API key")
        return None

    @app.after_request
    def _record_answer(response):
        """Whatever the request as a whole was answered, for each of its instructions not answered alone."""
        for attempt in g.get("attempts", ()):
            if attempt.status is None:
                sandbox.answered(attempt, response.status_code, response.get_json(silent=True))
        return response

    def _invalid(key: str, body) -> tuple[int, str, str] | None:
        if not key or len(key) > 100:
            return 400, "idempotency_key_required", "send an Idempotency-Key header"
        if (not isinstance(body, dict) or not isinstance(body.get("amount"), int) or body["amount"] <= 0
                or not isinstance(body.get("currency"), str) or len(body["currency"]) != 3):
            return 400, "invalid_request", "amount (integer minor units) and currency are required"
        if body.get("reference") not in (None, key):
            return 400, "invalid_request", "reference must equal the idempotency key"
        return None

    @app.post("/v1/payouts")
    def create_payout():
        key = request.headers.get("Idempotency-Key", "").strip()
        body = request.get_json(silent=True)
        invalid = _invalid(key, body)
        if invalid:
            return _error(*invalid)
        if sandbox._take_locked("error_next_creates"):
            return _error(503, "unavailable", "injected fault: try again")
        try:
            payout, created, delay = sandbox.create(key, body)
        except LookupError as exc:
            return _error(409, "idempotency_conflict", str(exc))
        if delay:
            time.sleep(delay)
        return jsonify(payout.public()), 201 if created else 200

    @app.post("/v1/payout-batches")
    def create_payout_batch():
        """Many payouts in one call; each item carries its own idempotency key and gets its own answer."""
        items = (request.get_json(silent=True) or {}).get("payouts")
        if not isinstance(items, list) or not 0 < len(items) <= 1000:
            return _error(400, "invalid_request", "payouts must be a list of 1 to 1000 payouts")
        if sandbox._take_locked("error_next_creates"):
            return _error(503, "unavailable", "injected fault: try again")
        results, statuses, delay = [], [], 0.0
        with sandbox.lock:
            for item in items:
                key = str(item.get("idempotency_key", "")).strip() if isinstance(item, dict) else ""
                invalid = _invalid(key, item)
                if invalid:
                    status, code, message = invalid
                    results.append({"idempotency_key": key, "error": {"status": status, "code": code,
                                                                      "message": message}})
                    statuses.append(status)
                    continue
                try:
                    payout, created, slow = sandbox._create(key, item)
                except LookupError as exc:
                    results.append({"idempotency_key": key, "error": {"status": 409, "code": "idempotency_conflict",
                                                                      "message": str(exc)}})
                    statuses.append(409)
                    continue
                delay = max(delay, slow)
                results.append({"idempotency_key": key, "payout": payout.public()})
                statuses.append(201 if created else 200)
        if delay:
            time.sleep(delay)
        for attempt, status, result in zip(g.attempts, statuses, results):
            sandbox.answered(attempt, status, result)
        return jsonify({"results": results})

    @app.get("/v1/payouts")
    def find_payout():
        with sandbox.lock:
            payout_id = sandbox.by_reference.get(request.args.get("reference", ""))
            payout = sandbox.payouts.get(payout_id) if payout_id else None
            data = payout.public() if payout else None
        return jsonify(data) if data else _error(404, "not_found", "no payout with this reference")

    @app.get("/v1/payouts/<payout_id>")
    def get_payout(payout_id: str):
        with sandbox.lock:
            payout = sandbox.payouts.get(payout_id)
            data = payout.public() if payout else None
        return jsonify(data) if data else _error(404, "not_found", "no such payout")

    @app.get("/v1/statement.csv")
    def statement():
        """The provider's statement: one line per payout, as a bank-statement import expects."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["provider_payout_id", "reference", "amount", "currency", "status", "updated_at"])
        with sandbox.lock:
            for p in sandbox.payouts.values():
                writer.writerow([p.id, p.reference, p.amount, p.currency, p.status,
                                 time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(p.updated_at))])
        return Response(out.getvalue(), mimetype="text/csv")

    @app.post("/v1/_faults")
    def set_faults():
        body = dict(request.get_json(silent=True) or {})
        with sandbox.lock:
            if "settle_after" in body:
                sandbox.settle_after = float(body.pop("settle_after"))
            for name, value in body.items():
                if not hasattr(sandbox.faults, name):
                    return _error(400, "unknown_fault", name)
                setattr(sandbox.faults, name, type(getattr(sandbox.faults, name))(value))
            return jsonify(asdict(sandbox.faults))

    @app.post("/v1/_reset")
    def reset():
        ended, unanswered = sandbox.reset()
        if not ended:
            return _error(503, "deliveries_under_way", "a webhook about a payout of before the reset "
                          "is still being delivered")
        return jsonify({"reset": True, "unanswered": unanswered})

    @app.get("/v1/_attempts")
    def get_attempts():
        """Every payout instruction received since the last reset, in order (?idempotency_key= for one key)."""
        return jsonify({"attempts": sandbox.attempts_seen(request.args.get("idempotency_key"))})

    @app.get("/v1/_state")
    def get_state():
        return jsonify(sandbox.state())

    @app.get("/healthz")
    def health():
        return {"status": "ok"}

    return app
