"""A feed of many things' events forwards every event, whatever order their ids arrive in;
a single thing's stream still skips what its backlog already sent."""
from __future__ import annotations

import json

from app.live.broker import InProcessBroker
from app.live.events import stream


def bodies(subscription, last_id, backlog=()) -> list[str]:
    chunks = stream(subscription, backlog, last_id, heartbeat=0.05, max_seconds=0.3)
    return [chunk for chunk in chunks if chunk.startswith("id:")]


def test_a_feed_forwards_an_event_whose_id_is_lower_than_the_last_sent():
    broker = InProcessBroker()
    feed = broker.subscribe(("payouts",))
    for payout_id in (7, 3):  # payout 3's change committed just after payout 7's
        broker.publish("payouts", json.dumps({"id": payout_id, "kind": "payout"}))
    sent = bodies(feed, None)
    assert [json.loads(chunk.split("data: ")[1])["id"] for chunk in sent] == [7, 3]


def test_a_streams_live_events_already_in_its_backlog_are_skipped():
    broker = InProcessBroker()
    one = broker.subscribe(("sr:1",))
    broker.publish("sr:1", json.dumps({"id": 2, "kind": "status"}))
    broker.publish("sr:1", json.dumps({"id": 3, "kind": "status"}))
    sent = bodies(one, 0, backlog=[{"id": 2, "kind": "status"}])
    assert [chunk.splitlines()[0] for chunk in sent] == ["id: 2", "id: 3"]


def test_an_event_without_an_id_is_forwarded_and_moves_no_stream_position():
    broker = InProcessBroker()
    one = broker.subscribe(("progress:case:1",))
    broker.publish("progress:case:1", json.dumps({"id": 5, "kind": "progress"}))
    broker.publish("progress:case:1", json.dumps({"kind": "relayed", "case_id": 1}))
    broker.publish("progress:case:1", json.dumps({"id": 4, "kind": "progress"}))  # already sent: skipped
    broker.publish("progress:case:1", json.dumps({"id": 6, "kind": "progress"}))
    chunks = [chunk for chunk in stream(one, (), 0, heartbeat=0.05, max_seconds=0.3) if "event:" in chunk]
    assert [chunk.split("\n")[:2] for chunk in chunks] == [
        ["id: 5", "event: progress"], ["event: relayed", 'data: {"kind": "relayed", "case_id": 1}'],
        ["id: 6", "event: progress"]]
