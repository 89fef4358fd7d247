"""Live streams cannot starve ordinary requests: caps per user and per process, on a real gunicorn."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app.live.limits import StreamLimiter, StreamsBusy, TooManyStreams
from tests.served import served_by_gunicorn
from tests.srs.helpers import make_sr
from tests.waiting import wait_until

THREADS, PER_PROCESS, PER_USER = 6, 3, 2


def test_a_user_holds_at_most_its_share_and_a_process_its_cap():
    limits = StreamLimiter(per_user=2, per_process=3, max_seconds=60)
    first, second = limits.acquire(1), limits.acquire(1)
    with pytest.raises(TooManyStreams):
        limits.acquire(1)
    third = limits.acquire(2)
    with pytest.raises(StreamsBusy):
        limits.acquire(3)
    first.release()
    first.release()  # a second release of the same slot gives back nothing more
    assert limits.open_streams == 2
    limits.acquire(3)
    with pytest.raises(StreamsBusy):
        limits.acquire(4)
    second.release(), third.release()
    assert limits.open_streams == 1


def test_a_users_share_holds_across_processes_through_redis(redis_url):
    one, two = (StreamLimiter(per_user=2, per_process=10, max_seconds=60, redis_url=redis_url) for _ in range(2))
    slot = one.acquire(7)
    two.acquire(7)
    with pytest.raises(TooManyStreams):
        one.acquire(7)
    with pytest.raises(TooManyStreams):
        two.acquire(7)
    slot.release()
    one.acquire(7)  # given back to every process at once


@pytest.fixture
def served(app):
    """One gthread worker with few threads, so that streams could take them all."""
    with served_by_gunicorn(app, threads=THREADS, env={
            "SR_EVENTS_MAX_PER_USER": str(PER_USER), "SR_EVENTS_MAX_PER_PROCESS": str(PER_PROCESS),
            "SR_EVENTS_HEARTBEAT_SECONDS": "1"}) as base:
        yield base


def test_streams_leave_threads_for_ordinary_requests(app, tokens, served):
    number = make_sr(app, "assigned")
    events = f"{served}/api/v1/srs/{number}/events"

    def open_stream(who):
        return requests.get(events, headers=tokens[who], stream=True, timeout=10)

    held = [open_stream("engineer"), open_stream("engineer")]
    assert [r.status_code for r in held] == [200, 200]
    refused = open_stream("engineer")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_streams"
    assert refused.headers["Retry-After"] == "30"
    held.append(open_stream("gtac"))
    assert held[-1].status_code == 200
    busy = open_stream("manager")
    assert busy.status_code == 503 and busy.json()["error"]["code"] == "streams_busy"

    def ordinary(path_and_who):
        path, who = path_and_who
        started = time.monotonic()
        answer = requests.get(f"{served}{path}", headers=tokens[who], timeout=10)
        return answer.status_code, time.monotonic() - started

    # Every stream slot is taken; the worker's other threads still answer everything else at once.
    asked = [("/healthz", "customer"), ("/api/v1/cases", "customer"), ("/api/v1/srs", "gtac"),
             ("/api/v1/me", "contoso")] * 2
    with ThreadPoolExecutor(max_workers=len(asked)) as pool:
        answers = list(pool.map(ordinary, asked))
    assert [status for status, _ in answers] == [200] * len(asked)
    assert max(seconds for _, seconds in answers) < 2, answers

    held.pop(0).close()  # the engineer closes a tab: its slot comes back
    deadline = time.monotonic() + 5
    while (again := open_stream("engineer")).status_code in (429, 503) and time.monotonic() < deadline:
        time.sleep(0.2)  # the server notices the closed connection within a second
    assert again.status_code == 200
    for stream in [*held, again]:
        stream.close()


@pytest.fixture
def served_with_long_heartbeats(app):
    """As production runs it: a heartbeat only every 15 s."""
    with served_by_gunicorn(app, threads=THREADS, env={
            "SR_EVENTS_MAX_PER_USER": str(PER_USER), "SR_EVENTS_HEARTBEAT_SECONDS": "15"}) as base:
        yield base


def test_a_page_left_gives_its_stream_back_within_seconds_not_at_the_next_heartbeat(app, tokens,
                                                                                    served_with_long_heartbeats):
    # A GTAC engineer going from SR to SR leaves a stream behind on each page; the next page must
    # still get its own, well before the 15 s heartbeat would find the first readers gone.
    number = make_sr(app, "assigned")
    events = f"{served_with_long_heartbeats}/api/v1/srs/{number}/events"
    left = [requests.get(events, headers=tokens["engineer"], stream=True, timeout=10) for _ in range(PER_USER)]
    assert [r.status_code for r in left] == [200] * PER_USER
    for answer in left:
        answer.close()
    started = time.monotonic()
    next_page = []

    def served_again() -> bool:
        answer = requests.get(events, headers=tokens["engineer"], stream=True, timeout=10)
        if answer.status_code == 200:
            next_page.append(answer)
            return True
        assert answer.status_code == 429
        answer.close()
        return False

    wait_until(served_again, timeout=10, interval=0.2, what="a stream for the next page")
    assert time.monotonic() - started < 5
    next_page[0].close()
