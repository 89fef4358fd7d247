"""GET /api/v1/srs/{sr}/events: status changes and messages as server-sent events,
in-process on the embedded default and across processes through Redis pub/sub; and the
pages' feed of every SR the signed-in user sees (GET /srs/feed)."""
from __future__ import annotations

import queue
import threading
import time
from urllib.parse import urlencode

import pytest

from app import create_app
from app.extensions import db
from app.live.broker import InProcessBroker, RedisBroker
from tests.browser import serve
from tests.srs.helpers import make_sr, move, user_id
from tests.srs.sse_client import EventReader, signed_in_reader


def test_a_status_change_reaches_an_open_stream_and_messages_too(app, client, tokens, live_server):
    number = make_sr(app, "assigned")
    reader = EventReader(f"{live_server}/api/v1/srs/{number}/events", tokens["engineer"])
    try:
        assert reader.status_code == 200 and reader.content_type.startswith("text/event-stream")
        time.sleep(0.2)
        started = time.monotonic()
        assert move(client, tokens["gtac"], number, "in_progress", note="Taking a look").status_code == 200
        event = reader.next(timeout=2)
        assert time.monotonic() - started < 1.0
        assert event["event"] == "status"
        assert (event["json"]["from"], event["json"]["to"], event["json"]["note"]) == (
            "assigned", "in_progress", "Taking a look")
        client.post(f"/api/v1/srs/{number}/messages", json={"body": "Send the core file please."},
                    headers=tokens["gtac"])
        message = reader.next(timeout=2)
        assert message["event"] == "message" and message["json"]["data"]["body"] == "Send the core file please."
        assert int(message["id"]) > int(event["id"])
    finally:
        reader.close()


def test_a_change_made_while_a_stream_starts_is_sent_with_the_sr_as_it_is_now(app, client, tokens, live_server,
                                                                             monkeypatch):
    # The stream reads the SR (access), then subscribes, then reads the entries it missed: a change
    # committed between the first read and the subscription is heard only from those entries, and
    # they must carry the SR as the change left it, not as the first read found it.
    from app.live import streams

    number = make_sr(app, "assigned")
    subscribe = streams.subscribe

    def moved_first(channels):
        monkeypatch.setattr(streams, "subscribe", subscribe)
        # From another thread, as another request would: this one's application context is the stream's.
        answers = []

        def change():
            answers.append(move(client, tokens["gtac"], number, "in_progress").status_code)
            answers.append(client.post(f"/api/v1/srs/{number}/assignment", headers=tokens["manager"],
                                       json={"assignee_id": user_id(app, "manager@vendor.example")}).status_code)

        elsewhere = threading.Thread(target=change)
        elsewhere.start()
        elsewhere.join(timeout=30)
        assert answers == [200, 200]
        return subscribe(channels)

    monkeypatch.setattr(streams, "subscribe", moved_first)
    reader = EventReader(f"{live_server}/api/v1/srs/{number}/events", tokens["engineer"])
    try:
        sent = [reader.next(timeout=5) for _ in range(2)]
        assert [event["event"] for event in sent] == ["status", "assignment"]
        assert [(event["json"]["status"], event["json"]["assignee"]) for event in sent] == [
            ("in_progress", "Max Manager")] * 2
    finally:
        reader.close()


def _feed(live_server: str, email: str, query: str = "", headers: dict | None = None) -> EventReader:
    """The pages' feed, read as `email` signed in through the form."""
    return signed_in_reader(live_server, email, f"/srs/feed{query}", headers)


def _heard(reader: EventReader) -> set[str]:
    numbers = set()
    while True:
        try:
            numbers.add(reader.next(timeout=0.7)["json"]["sr_number"])
        except queue.Empty:
            return numbers


def test_the_pages_feed_carries_every_sr_to_gtac_and_a_partners_own_srs_to_it(app, client, tokens, live_server):
    northwind, contoso = make_sr(app, "assigned"), make_sr(app, "assigned", serial="FAB-0002")
    readers = {who: _feed(live_server, email) for who, email in (
        ("gtac", "gtac@vendor.example"), ("northwind", "engineer@northwind.example"),
        ("contoso", "engineer@contoso.example"))}
    try:
        assert all(reader.status_code == 200 for reader in readers.values())
        time.sleep(0.2)
        for number in (northwind, contoso):
            assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
        assert _heard(readers["gtac"]) == {northwind, contoso}
        assert _heard(readers["northwind"]) == {northwind}
        assert _heard(readers["contoso"]) == {contoso}
    finally:
        for reader in readers.values():
            reader.close()
    refused = _feed(live_server, "customer@acme.example")
    refused.close()
    assert refused.status_code == 403  # a customer never hears of SRs


def test_a_pages_feed_first_sends_what_changed_since_the_page_read_its_rows(app, client, tokens, live_server, clock):
    northwind, contoso = make_sr(app, "assigned"), make_sr(app, "assigned", serial="FAB-0002")
    assert move(client, tokens["gtac"], northwind, "in_progress", note="Before the page").status_code == 200
    clock.advance(minutes=5)
    read_at = clock.now()
    clock.advance(seconds=1)
    for number, to in ((northwind, "awaiting_partner"), (contoso, "in_progress")):
        assert move(client, tokens["gtac"], number, to, note="After the page").status_code == 200
    since = "?" + urlencode({"since": read_at.isoformat()})
    gtac = _feed(live_server, "gtac@vendor.example", since)
    partner = _feed(live_server, "engineer@northwind.example", since)
    try:
        sent = [gtac.next(timeout=2)["json"] for _ in range(2)]
        assert {event["sr_number"] for event in sent} == {northwind, contoso}
        assert all(event["note"] == "After the page" and event["status"] == event["to"] for event in sent)
        assert partner.next(timeout=2)["json"]["sr_number"] == northwind  # its own SR only
        for reader in (gtac, partner):
            with pytest.raises(queue.Empty):
                reader.next(timeout=0.5)
    finally:
        gtac.close()
        partner.close()
    # A reconnection hears nothing again (the page reads its rows anew), nor does a feed without since.
    for query, headers in ((since, {"Last-Event-ID": "1"}), ("", None)):
        reader = _feed(live_server, "gtac@vendor.example", query, headers)
        try:
            with pytest.raises(queue.Empty):
                reader.next(timeout=0.5)
        finally:
            reader.close()
    for bad in ("yesterday", "2026-11-23T08:00:00", "9" * 50, "0001-01-01T00:00:00+00:00",
                "0001-01-01T00:00:00+01:00"):
        refused = _feed(live_server, "gtac@vendor.example", "?" + urlencode({"since": bad}))
        refused.close()
        assert refused.status_code == 400, bad


def test_reconnecting_with_last_event_id_replays_what_was_missed(app, client, tokens, live_server):
    number = make_sr(app, "assigned")
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    first = client.get(f"/api/v1/srs/{number}/history", headers=tokens["engineer"]).json[-1]["id"]
    assert move(client, tokens["gtac"], number, "awaiting_partner").status_code == 200
    reader = EventReader(f"{live_server}/api/v1/srs/{number}/events",
                         {**tokens["engineer"], "Last-Event-ID": str(first)})
    try:
        missed = reader.next(timeout=2)
        assert missed["json"]["to"] == "awaiting_partner"
        with pytest.raises(queue.Empty):
            reader.next(timeout=0.5)  # nothing else was missed; a fresh stream has no backlog
    finally:
        reader.close()
    bad = client.get(f"/api/v1/srs/{number}/events", headers={**tokens["engineer"], "Last-Event-ID": "abc"})
    assert bad.status_code == 400


def test_a_rolled_back_change_publishes_nothing(app, client, tokens, live_server):
    number = make_sr(app, "in_progress")
    reader = EventReader(f"{live_server}/api/v1/srs/{number}/events", tokens["gtac"])
    try:
        time.sleep(0.2)
        # Refused after the lock and the checks: nothing committed, nothing announced.
        assert move(client, tokens["gtac"], number, "solution_provided").status_code == 400
        with pytest.raises(queue.Empty):
            reader.next(timeout=0.7)
    finally:
        reader.close()


def test_redis_fans_out_between_two_brokers(redis_url):
    """Two web processes each have their own broker; a publication by one reaches the other's streams."""
    publisher, listener = RedisBroker(redis_url), RedisBroker(redis_url)
    subscription = listener.subscribe(("sr:4242",))
    try:
        publisher.publish("sr:4242", '{"id": 1}')
        publisher.publish("sr:4243", '{"id": 2}')  # another SR's channel: not delivered here
        assert subscription.get(timeout=2) == '{"id": 1}'
        assert subscription.get(timeout=0.3) is None
    finally:
        subscription.close()
    assert listener.hub.count() == 0


def test_a_change_made_on_one_web_process_reaches_a_stream_on_another(app, client, tokens, redis_url, tmp_path):
    number = make_sr(app, "assigned")
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "SQLALCHEMY_ENGINE_OPTIONS": app.config["SQLALCHEMY_ENGINE_OPTIONS"],
                        "REDIS_URL": redis_url, "SR_EVENTS_HEARTBEAT_SECONDS": 1},
                       instance_path=str(tmp_path / "other"))
    other.extensions["clock"] = app.extensions["clock"]
    url, stop = serve(other)
    saved = app.extensions["live_broker"]
    app.extensions["live_broker"] = RedisBroker(redis_url)  # this process publishes through Redis too
    reader = EventReader(f"{url}/api/v1/srs/{number}/events", tokens["engineer"])
    try:
        assert reader.status_code == 200
        time.sleep(0.2)
        assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
        assert reader.next(timeout=2)["json"]["to"] == "in_progress"
    finally:
        reader.close()
        app.extensions["live_broker"] = saved
        stop()
        with other.app_context():
            db.engine.dispose()


def test_in_process_broker_delivers_only_to_subscribers_of_the_channel():
    broker = InProcessBroker()
    mine, theirs = broker.subscribe(("sr:1",)), broker.subscribe(("sr:2",))
    broker.publish("sr:1", "hello")
    assert mine.get(timeout=0.1) == "hello" and theirs.get(timeout=0.1) is None
    mine.close()
    theirs.close()
    assert broker.hub.count() == 0
