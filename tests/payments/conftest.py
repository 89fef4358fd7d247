"""Payments fixtures: the application served on loopback, the sandbox provider as its
own process, and helpers that drive claims through the public API."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from app.extensions import db
from app.payments import signing
from app.payments.models import ProviderEvent
from sandbox.app import LONGEST_DELIVERY
from tests.served import free_port
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def pipeline_state(app, sandbox: "SandboxClient") -> str:
    """Where a claim's way to payment stopped: the outbox events, the payouts, the queued jobs and
    batch flags on Redis, and what the sandbox holds and has sent."""
    from app.outbox.models import OutboxEvent
    from app.payments.models import Payout

    with app.app_context():
        events = [(e.id, e.topic, e.payload, e.attempts, e.last_error, bool(e.enqueued_at), bool(e.leased_until),
                   bool(e.processed_at)) for e in db.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id))]
        payouts = [(p.id, p.status.value, p.attempt) for p in db.session.scalars(sa.select(Payout).order_by(Payout.id))]
        db.session.remove()
    redis = getattr(app.extensions["outbox_dispatch"], "redis", None)
    keys = sorted(key.decode() for key in redis.keys("*")) if redis is not None else "no Redis"
    lines = ["outbox events (id, topic, payload, attempts, last error, enqueued, leased, processed):",
             *map(repr, events), f"payouts (id, status, attempt): {payouts}", f"Redis keys: {keys}"]
    try:
        lines.append(f"sandbox: {sandbox.state()}")
    except requests.RequestException as exc:
        lines.append(f"sandbox: unreachable ({exc})")
    return "\n".join(lines)


class SandboxClient:
    """Talks to the sandbox's control endpoints (faults, state, attempts, reset)."""

    def __init__(self, url: str):
        self.url = url

    def reset(self) -> list[str]:
        """A clean slate: the sandbox answers once it sends no webhook about an older payout any more.
        Returns the events it sent that got no answer in time, which the service may apply yet."""
        answer = requests.post(f"{self.url}/v1/_reset", timeout=LONGEST_DELIVERY + 10)
        answer.raise_for_status()
        return answer.json()["unanswered"]

    def faults(self, **faults) -> dict:
        answer = requests.post(f"{self.url}/v1/_faults", json=faults, timeout=5)
        answer.raise_for_status()
        return answer.json()

    def state(self) -> dict:
        return requests.get(f"{self.url}/v1/_state", timeout=5).json()

    def payouts_for(self, key: str) -> list[dict]:
        return [p for p in self.state()["payouts"] if p["reference"] == key]

    def attempts(self, key: str | None = None) -> list[dict]:
        """Every payout instruction the sandbox received, in order, refused ones too: its
        idempotency_key, body, and the status and answer it got (None while unanswered)."""
        params = {} if key is None else {"idempotency_key": key}
        answer = requests.get(f"{self.url}/v1/_attempts", params=params, timeout=5)
        answer.raise_for_status()
        return answer.json()["attempts"]


def start_sandbox(webhook_url: str, secret: str, api_key: str,
                  settle_after: float = 3600) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--webhook-url", webhook_url,
         "--secret", secret, "--api-key", api_key, "--settle-after", str(settle_after),
         "--webhook-concurrency", "4"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=None)
    url = f"http://127.0.0.1:{port}"

    def up():
        if process.poll() is not None:
            pytest.fail("the sandbox provider exited at start-up")
        try:
            return requests.get(f"{url}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    wait_until(up, timeout=90, interval=0.2, what="the sandbox provider to start")
    return process, url


@pytest.fixture(scope="session")
def sandbox_process(app, live_server):
    process, url = start_sandbox(f"{live_server}/webhooks/payments/sandbox",
                                 app.config["PAYMENTS_WEBHOOK_SECRET"], app.config["PAYMENTS_SANDBOX_API_KEY"])
    app.config["PAYMENTS_SANDBOX_URL"] = url
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def sandbox(sandbox_process, app, monkeypatch):
    """The sandbox provider, reset; payouts stay in transit until a test settles them."""
    client = SandboxClient(sandbox_process)
    _reset(app, client)
    # Set for each test: a test that started the sandbox under a setting of its own restores that setting.
    monkeypatch.setitem(app.config, "PAYMENTS_SANDBOX_URL", sandbox_process)
    monkeypatch.setitem(app.config, "PAYMENTS_PROVIDER", "sandbox")
    yield client
    _reset(app, client)


def _reset(app, client: SandboxClient) -> None:
    """Reset the sandbox, and wait until the service has recorded every webhook the sandbox gave up
    waiting for: the database is written back after the test and payout references start again, so
    one applied later would settle the next test's payout (CI saw it, on a loaded machine)."""
    unanswered = client.reset()
    if unanswered:
        wait_until(lambda: count(app, ProviderEvent, ProviderEvent.event_id.in_(unanswered)) == len(unanswered),
                   timeout=60, what=f"the service to record the webhooks {unanswered}")


class Payments:
    """The SPEC §10 payments endpoints, as a partner and the programmes team call them."""

    def __init__(self, client, tokens, app):
        self.client, self.tokens, self.app = client, tokens, app

    def claim(self, amount=50_000, type="rebate", currency="USD", period="2026-Q3", who="admin",
              submit=True, proof=False):
        body = {"type": type, "amount": amount, "currency": currency, "period": period,
                "description": f"{type} claim for {amount}"}
        created = self.client.post("/api/v1/claims", json=body, headers=self.tokens[who])
        assert created.status_code == 201, created.json
        claim_id = created.json["id"]
        if proof:
            self.proof(claim_id, who=who)
        if submit:
            submitted = self.client.post(f"/api/v1/claims/{claim_id}/submit", headers=self.tokens[who])
            assert submitted.status_code == 200, submitted.json
        return claim_id

    def proof(self, claim_id, who="admin", content=b"%PDF-1.4 booth photos and attendee list"):
        import io

        answer = self.client.post(f"/api/v1/claims/{claim_id}/attachments", headers=self.tokens[who],
                                  data={"file": (io.BytesIO(content), "proof.pdf", "application/pdf")},
                                  content_type="multipart/form-data")
        assert answer.status_code == 201, answer.json
        return answer.json

    def approve(self, claim_id, who="programs"):
        return self.client.post(f"/api/v1/claims/{claim_id}/approve", headers=self.tokens[who])

    def get_claim(self, claim_id, who="programs"):
        return self.client.get(f"/api/v1/claims/{claim_id}", headers=self.tokens[who]).json

    def payout_of(self, claim_id, who="programs"):
        answer = self.client.get("/api/v1/payouts", query_string={"claim_id": claim_id}, headers=self.tokens[who])
        assert answer.status_code == 200, answer.json
        items = answer.json["items"]
        assert len(items) <= 1
        return items[0] if items else None

    def fund(self, amount, reference, currency="USD", who="programs"):
        return self.client.post("/api/v1/funding", json={"amount": amount, "currency": currency,
                                                         "reference": reference}, headers=self.tokens[who])

    def balance(self, currency="USD"):
        answer = self.client.get("/api/v1/ledger/balances", headers=self.tokens["programs"])
        assert answer.status_code == 200, answer.json
        return next((b for b in answer.json["balances"] if b["currency"] == currency), None)

    def webhook(self, type, reference, event_id, provider_payout_id=None, reason=None, secret=None,
                signature=None, **data):
        """A signed provider event; it names the provider's payout the service holds under `reference`
        unless told another (`data`: more of the event's payout, such as its amount)."""
        provider_payout_id = provider_payout_id or self.provider_payout_id(reference) or "sbx_test"
        body = json.dumps({"id": event_id, "type": type, "data": {
            "id": provider_payout_id, "reference": reference, "reason": reason, **data}}).encode()
        secret = secret or self.app.config["PAYMENTS_WEBHOOK_SECRET"]
        header = signature or signing.sign(secret, body)
        return self.client.post("/webhooks/payments/sandbox", data=body, content_type="application/json",
                                headers={signing.HEADER: header, "Accept": "application/json"})

    def provider_payout_id(self, reference: str) -> str | None:
        """The provider's payout id the service holds under one of its references, if any."""
        from app.payments.models import Payout
        from app.payments.payouts import parse_reference

        target = parse_reference(reference)
        if target is None:
            return None
        with self.app.app_context():
            payout = db.session.get(Payout, target[0])
            db.session.remove()
        return payout.provider_payout_id if payout is not None else None


@pytest.fixture
def signed_in(app, demo):
    """signed_in("admin") is a test client with that demo user's web session."""

    def sign(who):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(demo[who].id)
            session["_fresh"] = True
        return client

    return sign


@pytest.fixture
def payments(client, tokens, app):
    return Payments(client, tokens, app)


def ledger_violations(app) -> list:
    from app.payments.checks import check_ledger

    with app.app_context():
        try:
            return check_ledger(db.session)
        finally:
            db.session.remove()


def count(app, model, *where) -> int:
    with app.app_context():
        try:
            return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
        finally:
            db.session.remove()


def env_for_subprocess(app, **extra) -> dict:
    """The environment a worker or a CLI process needs to share the tests' database."""
    env = dict(os.environ)
    env.pop("JOBS_EAGER", None)
    env.update({"FLASK_APP": "wsgi.py", "GTAC_ENV": "testing", "SECRET_KEY": app.config["SECRET_KEY"],
                "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://"),
                "PAYMENTS_SANDBOX_URL": app.config["PAYMENTS_SANDBOX_URL"],
                "PAYMENTS_WEBHOOK_SECRET": app.config["PAYMENTS_WEBHOOK_SECRET"],
                "PAYMENTS_SANDBOX_API_KEY": app.config["PAYMENTS_SANDBOX_API_KEY"],
                "PASSWORD_TIME_COST": "1", "PASSWORD_MEMORY_COST": "8192"})
    env.update({k: str(v) for k, v in extra.items()})
    return env
