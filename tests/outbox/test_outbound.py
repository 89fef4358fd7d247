"""Calls to the outside world: never inside a transaction, and bounded in total time."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from app import outbound
from app.uow import unit_of_work


def test_a_call_inside_a_unit_of_work_is_refused_and_noted(app, ctx):
    with pytest.raises(outbound.OpenTransaction):
        with unit_of_work():
            outbound.guard("POST https://partner.example/hook")
    assert app.extensions["outbound_refusals"] == ["POST https://partner.example/hook"]
    app.extensions["outbound_refusals"].clear()  # noted on purpose here
    outbound.guard("POST https://partner.example/hook")  # after the commit: allowed


class TricklingServer:
    """Answers every request one byte at a time, a byte every `pause` seconds, forever."""

    def __init__(self, pause: float):
        self.pause = pause
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000
            for byte in answer:
                if self.stopped.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(self.pause)

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


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
