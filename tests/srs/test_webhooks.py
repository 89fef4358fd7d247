"""Partners' webhooks: signed deliveries to a real HTTP endpoint, retried with back-off, one event id each."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.wrappers import Request, Response

from app.extensions import db
from app.outbox.models import OutboxEvent
from app.webhooks import services as webhooks
from app.webhooks.models import WebhookDelivery
from app.uow import unit_of_work
from tests.browser import serve
from tests.case_helpers import new_case
from tests.api.conftest import row_counts  # noqa: F401
from tests.srs.helpers import escalate, make_sr, move


class Receiver:
    """A partner's endpoint: records what arrives, answers with the queued statuses, then 200."""

    def __init__(self):
        self.received: list[dict] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            self.received.append({"headers": dict(request.headers), "body": request.get_data()})
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status=status)(environ, start_response)


@pytest.fixture(autouse=True)
def loopback_receivers(app):
    """These receivers listen on this machine's loopback, which production never delivers to."""
    saved = app.config["SR_WEBHOOK_ALLOW_PRIVATE"]
    app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = True
    yield
    app.config["SR_WEBHOOK_ALLOW_PRIVATE"] = saved


@pytest.fixture
def receiver():
    endpoint = Receiver()
    url, stop = serve(endpoint)
    endpoint.url = url + "/hooks/gtac"
    yield endpoint
    stop()


def register(client, tokens, url):
    answer = client.post("/api/v1/webhooks", json={"url": url}, headers=tokens["admin"])
    assert answer.status_code == 201, answer.json
    return answer.json


def verify(delivery: dict, secret: str) -> dict:
    """What a partner does with each delivery: check the signature over timestamp and body."""
    parts = dict(item.split("=", 1) for item in delivery["headers"]["X-Gtac-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + delivery["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    return json.loads(delivery["body"])


def test_a_status_change_is_delivered_signed(app, client, tokens, receiver):
    hook = register(client, tokens, receiver.url)
    assert len(hook["secret"]) >= 32
    number = make_sr(app, "assigned")
    assert move(client, tokens["gtac"], number, "in_progress", note="On it").status_code == 200
    assert len(receiver.received) == 1
    event = verify(receiver.received[0], hook["secret"])
    assert receiver.received[0]["headers"]["X-Gtac-Event-Id"] == event["id"]
    assert event["type"] == "sr.status"
    assert (event["data"]["sr_number"], event["data"]["to"], event["data"]["note"]) == (number, "in_progress", "On it")
    with pytest.raises(AssertionError):
        verify(receiver.received[0], "not-the-secret")
    deliveries = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tokens["admin"]).json
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in deliveries] == [("delivered", 1, 200)]


def test_failures_are_retried_with_back_off_under_the_same_event_id(app, client, tokens, receiver, clock):
    hook = register(client, tokens, receiver.url)
    receiver.statuses = [500, 503]
    number = make_sr(app, "assigned")
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    with app.app_context():
        assert webhooks.deliver_due() == 0  # the back-off has not passed
    clock.advance(seconds=30)
    with app.app_context():
        assert webhooks.deliver_due() == 1  # second attempt: 503, next in 60 s
    clock.advance(seconds=59)
    with app.app_context():
        assert webhooks.deliver_due() == 0
    clock.advance(seconds=1)
    assert app.test_cli_runner().invoke(args=["srs", "watch", "--once"]).exit_code == 0
    ids = {r["headers"]["X-Gtac-Event-Id"] for r in receiver.received}
    assert len(receiver.received) == 3 and len(ids) == 1
    deliveries = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tokens["admin"]).json
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in deliveries] == [("delivered", 3, 200)]


def test_an_event_handed_over_twice_makes_one_delivery(app, client, tokens, receiver):
    register(client, tokens, receiver.url)
    number = make_sr(app, "assigned")
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    with app.app_context():
        # The move's event (the SR's opening wrote one before it).
        payload = db.session.scalars(sa.select(OutboxEvent.payload).where(OutboxEvent.topic == "webhooks.sr_event")
                                     .order_by(OutboxEvent.id.desc())).first()
        db.session.commit()
        with unit_of_work() as uow:
            webhooks.on_sr_event(uow, payload)  # the outbox relay handing the same event over again
    assert len(receiver.received) == 1


def test_gives_up_after_the_last_attempt_and_records_why(app, client, tokens, clock):
    hook = register(client, tokens, "http://127.0.0.1:9/unreachable")
    app.config["SR_WEBHOOK_MAX_ATTEMPTS"], saved = 2, app.config["SR_WEBHOOK_MAX_ATTEMPTS"]
    try:
        number = make_sr(app, "assigned")
        assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
        clock.advance(minutes=5)
        with app.app_context():
            webhooks.deliver_due()
    finally:
        app.config["SR_WEBHOOK_MAX_ATTEMPTS"] = saved
    deliveries = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tokens["admin"]).json
    assert deliveries[0]["status"] == "failed" and deliveries[0]["attempts"] == 2
    assert "ConnectionError" in deliveries[0]["last_error"]


def test_a_deactivated_webhook_gets_no_retry_of_what_it_was_sent_before(app, client, tokens, receiver, clock):
    hook = register(client, tokens, receiver.url)
    receiver.statuses = [500]
    number = make_sr(app, "assigned")
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    assert len(receiver.received) == 1  # refused: a retry is due in 30 s
    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=tokens["admin"]).status_code == 200
    clock.advance(minutes=5)
    with app.app_context():
        assert webhooks.deliver_due() == 0
    assert len(receiver.received) == 1
    deliveries = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tokens["admin"]).json
    assert [(d["status"], d["last_error"]) for d in deliveries] == [("failed", webhooks.STOPPED)]


def test_a_webhook_url_with_a_user_name_or_password_is_refused(client, tokens, receiver, row_counts):
    before = row_counts()
    for url in (receiver.url.replace("http://", "http://psa:token@"), receiver.url.replace("http://", "http://psa@")):
        answer = client.post("/api/v1/webhooks", json={"url": url}, headers=tokens["admin"])
        assert answer.status_code == 422 and answer.json["error"]["code"] == "webhook_url_credentials"
        assert "token" not in answer.json["error"]["message"]
    assert row_counts() == before


def test_only_a_partner_admin_manages_its_own_webhooks(client, tokens, receiver):
    for who in ("engineer", "gtac", "customer", "programs"):
        assert client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=tokens[who]).status_code == 403
    for url in ("not a url", "", "http://"):
        assert client.post("/api/v1/webhooks", json={"url": url}, headers=tokens["admin"]).status_code == 400
    ftp = client.post("/api/v1/webhooks", json={"url": "ftp://example.com/x"}, headers=tokens["admin"])
    assert (ftp.status_code, ftp.json["error"]["code"]) == (422, "webhook_url_scheme")
    hook = register(client, tokens, receiver.url)
    listed = client.get("/api/v1/webhooks", headers=tokens["admin"]).json
    assert [(h["id"], h["active"]) for h in listed] == [(hook["id"], True)] and "secret" not in listed[0]
    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=tokens["admin"]).json["active"] is False
    assert client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tokens["engineer"]).status_code == 403


def test_registrations_at_the_same_moment_never_make_more_than_ten_active(app, client, tokens, receiver, postgres,
                                                                         monkeypatch):
    for number in range(webhooks.MAX_WEBHOOKS_PER_PARTNER - 1):
        register(client, tokens, f"{receiver.url}?n={number}")
    arrived, turn = [], threading.Condition()
    seal = webhooks.seal

    def counted_then_linger(secret):
        # Each registration, having counted, waits (briefly) for the other to have counted too,
        # so that without a lock both would count nine before either writes.
        with turn:
            arrived.append(secret)
            turn.notify_all()
            turn.wait_for(lambda: len(arrived) == 2, timeout=1)
        return seal(secret)

    monkeypatch.setattr(webhooks, "seal", counted_then_linger)
    start = threading.Barrier(2)
    answers = {}

    def add(number):
        racer = app.test_client()  # each thread its own request, session and connection
        start.wait()
        answer = racer.post("/api/v1/webhooks", json={"url": f"{receiver.url}?racer={number}"},
                            headers=tokens["admin"])
        answers[number] = (answer.status_code, answer.json.get("error", {}).get("code"))

    threads = [threading.Thread(target=add, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers.values()) == [(201, None), (400, "too_many_webhooks")]
    listed = client.get("/api/v1/webhooks", headers=tokens["admin"]).json
    assert sum(1 for hook in listed if hook["active"]) == webhooks.MAX_WEBHOOKS_PER_PARTNER


def test_retry_delay_doubles_up_to_an_hour():
    assert [webhooks.retry_delay(n) for n in (1, 2, 3)] == [timedelta(seconds=30), timedelta(minutes=1),
                                                          timedelta(minutes=2)]
    assert webhooks.retry_delay(20) == timedelta(hours=1)


def test_escalating_a_case_sends_sr_opened_to_the_partners_webhooks(app, client, tokens, receiver):
    hook = register(client, tokens, receiver.url)
    number = escalate(client, tokens)
    assert len(receiver.received) == 1
    event = verify(receiver.received[0], hook["secret"])
    assert receiver.received[0]["headers"]["X-Gtac-Event-Type"] == event["type"] == "sr.opened"
    assert (event["data"]["sr_number"], event["data"]["kind"], event["data"]["status"]) == (number, "opened", "new")
    assert event["data"]["queue"] and event["data"]["severity"] == "S2"
    deliveries = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tokens["admin"]).json
    assert [(d["topic"], d["status"], d["attempts"]) for d in deliveries] == [("sr.opened", "delivered", 1)]
    # The next event of the same SR is another event id, delivered after it.
    assert move(client, tokens["gtac"], number, "assigned").status_code == 200
    ids = [r["headers"]["X-Gtac-Event-Id"] for r in receiver.received]
    assert len(ids) == 2 and ids[0] != ids[1]


def test_a_refused_escalation_sends_nothing(app, client, tokens, receiver):
    register(client, tokens, receiver.url)
    case = new_case(client, tokens["engineer"])
    answer = client.post(f"/api/v1/cases/{case['id']}/escalation", json={}, headers=tokens["engineer"])
    assert answer.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)
                                 .where(OutboxEvent.topic == "webhooks.sr_event")) == 0
    assert receiver.received == []


def test_a_partner_whose_webhooks_are_removed_is_sent_nothing_and_its_events_are_done(
        app, client, tokens, receiver):
    hook = register(client, tokens, receiver.url)
    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=tokens["admin"]).status_code in (200, 204)
    number = escalate(client, tokens)
    assert move(client, tokens["gtac"], number, "assigned").status_code == 200
    assert receiver.received == []
    with app.app_context():
        done = db.session.scalars(sa.select(OutboxEvent.processed_at)
                                  .where(OutboxEvent.topic == "webhooks.sr_event")).all()
        assert len(done) == 2 and all(at is not None for at in done)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0
