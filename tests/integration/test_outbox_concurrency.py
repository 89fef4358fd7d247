"""Two workers running the same event at once (a job queued twice): the handler runs once."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from app.db import transaction
from app.outbox import services

TOPIC = "test.slow"


def test_concurrent_runs_of_one_event_run_its_handler_once(app, postgres, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    calls = []

    def slow_handler(payload):
        calls.append(payload)
        entered.set()
        release.wait(timeout=10)

    monkeypatch.setitem(app.extensions["outbox_handlers"], TOPIC, slow_handler)
    monkeypatch.setitem(app.extensions, "outbox_dispatch", lambda events: len(events))
    with app.app_context():
        with transaction():
            event = services.emit(TOPIC, {"n": 1})
        event_id = event.id

    def run():
        with app.app_context():  # each thread its own session and connection
            return services.run_event(event_id)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(run)
        assert entered.wait(timeout=10)
        second = pool.submit(run)
        # The second run waits on the first one's row lock instead of running the handler.
        assert not second.done() and not _finishes(second, within=0.5)
        release.set()
        assert sorted([first.result(timeout=10), second.result(timeout=10)]) == [False, True]
    assert calls == [{"n": 1}]


def _finishes(future, within: float) -> bool:
    try:
        future.result(timeout=within)
    except TimeoutError:
        return False
    return True
