"""A live stream ends soon after its reader closes the connection, seen on the server's socket, plain
or TLS, without waiting for a heartbeat to fail."""
from __future__ import annotations

import socket
import ssl
import threading
import time

from app.live.broker import InProcessBroker
from app.live.events import stream
from app.live.streams import reader_gone
from tests.certificates import throwaway_certificate


def connected(wrap=None, client_context=None) -> tuple[socket.socket, socket.socket]:
    """(server side, client side) of one loopback TCP connection, over TLS when `wrap` is given."""
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    if wrap is None:
        return server, client
    accepted = []
    handshake = threading.Thread(target=lambda: accepted.append(wrap.wrap_socket(server, server_side=True)))
    handshake.start()
    client = client_context.wrap_socket(client, server_hostname="localhost")
    handshake.join(timeout=10)
    return accepted[0], client


def test_a_plain_connection_closed_by_its_reader_is_seen_gone_and_not_before():
    server, client = connected()
    gone = reader_gone({"gunicorn.socket": server})
    assert not gone()
    client.sendall(b"x")  # something sent is not a close
    assert not gone()
    client.close()
    assert gone()
    server.close()


def test_a_tls_connection_closed_by_its_reader_is_seen_gone(tmp_path):
    ca_file, server_context = throwaway_certificate(tmp_path, "localhost")
    server, client = connected(server_context, ssl.create_default_context(cafile=ca_file))
    gone = reader_gone({"gunicorn.socket": server})
    assert not gone()
    client.close()
    deadline = time.monotonic() + 2
    while not gone():
        assert time.monotonic() < deadline, "the closed TLS connection was never seen gone"
        time.sleep(0.05)
    server.close()


def test_a_stream_whose_reader_is_gone_ends_within_a_check_and_gives_its_slot_back():
    released = []
    subscription = InProcessBroker().subscribe(("sr:1",))
    body = stream(subscription, (), 0, heartbeat=60, max_seconds=60, on_close=lambda: released.append(True),
                  gone=lambda: True)
    started = time.monotonic()
    assert list(body) == ["retry: 2000\n: connected\n\n"]  # no keep-alive written to nobody
    assert time.monotonic() - started < 2 and released == [True]
