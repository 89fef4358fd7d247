"""Calls to the outside world: never inside a transaction, and bounded in total time."""
from __future__ import annotations

import asyncio
import time

import pytest
from aiosmtpd.controller import Controller

from app import outbound
from app.notifications.mail import send_email
from app.uow import unit_of_work
from tests.outbox.conftest import Mailbox
from tests.served import free_port
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


class SlowGoodbye(Mailbox):
    """Accepts every message at once, then takes its time answering QUIT."""

    async def handle_QUIT(self, server, session, envelope):
        await asyncio.sleep(3)
        return "221 Bye"


def test_an_email_the_server_accepted_is_not_failed_by_a_goodbye_cut_short(app, ctx, monkeypatch):
    # Failed, its job would be run again and the message sent a second time.
    inbox = SlowGoodbye()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port, "MAIL_DEADLINE_SECONDS": 1}.items():
            monkeypatch.setitem(app.config, key, value)
        started = time.monotonic()
        with unit_of_work() as uow:
            send_email(uow, ["admin@northwind.example"], "[Case 7] was escalated", "SR 2026-000007")
        assert time.monotonic() - started < 2.5  # the goodbye was still cut off at the deadline
        assert [m["Subject"] for m in inbox.messages] == ["[Case 7] was escalated"]
    finally:
        server.stop()
