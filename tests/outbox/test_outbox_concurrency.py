"""Two workers running the same event at once (a job queued twice): the handler runs once."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from app.outbox import services
from app.uow import unit_of_work

TOPIC = "test.slow"


def test_concurrent_runs_of_one_event_run_its_handler_once(app, postgres, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    calls = []

    def slow_handler(uow, payload):
        calls.append(payload)
        entered.set()
        release.wait(timeout=10)

    monkeypatch.setitem(app.extensions["outbox_handlers"], TOPIC, slow_handler)
    monkeypatch.setitem(app.extensions, "outbox_dispatch", lambda events: len(events))
    with app.app_context():
        with unit_of_work() as uow:
            event = uow.emit(TOPIC, {"n": 1})
        event_id = event.id

    def run():
        with app.app_context():  # each thread its own session and connection
            return services.run_event(event_id)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(run)
        assert entered.wait(timeout=10)
        second = pool.submit(run)
        # The second run skips the row the first one holds instead of running the handler,
        # and does not wait for it.
        assert second.result(timeout=5) is False
        assert not first.done()
        release.set()
        assert first.result(timeout=10) is True
    assert calls == [{"n": 1}]

