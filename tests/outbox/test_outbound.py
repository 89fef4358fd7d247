"""Calls to the outside world: never inside a transaction, and bounded in total time."""
from __future__ import annotations

import time

import pytest

from app import outbound
from app.uow import unit_of_work
from tests.trickling import TricklingServer


def test_a_call_inside_a_unit_of_work_is_refused_and_noted(app, ctx):
    with pytest.raises(outbound.OpenTransaction):
        with unit_of_work():
            outbound.guard("POST https://partner.example/hook")
    assert app.extensions["outbound_refusals"] == ["POST https://partner.example/hook"]
    app.extensions["outbound_refusals"].clear()  # noted on purpose here
    outbound.guard("POST https://partner.example/hook")  # after the commit: allowed


@pytest.fixture
def trickler():
    server = TricklingServer(pause=0.2)
    yield server
    server.close()


def test_a_trickling_peer_is_cut_off_at_the_total_deadline(trickler):
    # Every single read arrives well within a per-read timeout; only a total deadline stops it.
    started = time.monotonic()
    with pytest.raises(outbound.DeadlineExceeded):
        outbound.request(outbound.http_session(), "POST", trickler.url, total_seconds=1.0, data=b"{}")
    assert time.monotonic() - started < 2.5


def test_a_kept_alive_connection_is_bounded_too(trickler):
    session = outbound.http_session()
    with pytest.raises(outbound.DeadlineExceeded):
        outbound.request(session, "GET", trickler.url, total_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(outbound.DeadlineExceeded):
        outbound.request(session, "GET", trickler.url, total_seconds=0.5)
    assert time.monotonic() - started < 2
