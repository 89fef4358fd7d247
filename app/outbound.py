"""Every call to the outside world (a partner's webhook, the payments provider, the mail server).

Two rules hold for all of them, here in one place:
- no call while a database transaction is open on this thread's session: a slow
  peer would hold locks (and on SQLite the whole database) meanwhile. guard()
  refuses such a call with OpenTransaction, which the tests turn into a failure;
- every call has a total deadline, not only a per-read timeout: a receiver that
  trickles one byte a second would otherwise hold a worker for as long as it
  likes. When the deadline passes, a watchdog shuts the call's sockets down and
  the call raises DeadlineExceeded, unless the call said its answer was complete by
  then (answered()): a response read in full is not failed, and so not asked for
  again, for a deadline that passed while the call was ending.
"""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import requests
from flask import current_app, has_app_context
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from app.extensions import db
from app.uow import active


class OpenTransaction(RuntimeError):
    """A call to the outside world was about to be made inside a database transaction."""


class DeadlineExceeded(requests.Timeout):
    """The call took longer than its total deadline (a requests.Timeout, so callers' handling holds)."""


def guard(what: str) -> None:
    """Refuse a call to the outside world while this thread's session has a transaction open.

    Refusals are also noted in app.extensions["outbound_refusals"] when the
    application keeps that list (the test suite does, and fails any test that
    made one, even where a caller swallowed the error).
    """
    if not has_app_context():
        return
    if db.session.registry.has() and (active() is not None or db.session().in_transaction()):
        refusals = current_app.extensions.get("outbound_refusals")
        if refusals is not None:
            refusals.append(what)
        raise OpenTransaction(f"{what}: called with a database transaction open")


class _Watch:
    """The sockets of one call, shut down by a timer when its deadline passes."""

    def __init__(self) -> None:
        self.sources: list[Callable[[], socket.socket | None]] = []
        self.expired = False
        self._answered = False
        self._lock = threading.Lock()

    def answered(self) -> None:
        """The peer's answer is complete: from now on the deadline still ends the call's sockets
        (a slow goodbye stays bounded), but the call no longer fails for it."""
        with self._lock:
            self._answered = True

    def add(self, source: Callable[[], socket.socket | None]) -> None:
        with self._lock:
            self.sources.append(source)
            expired = self.expired
        if expired:
            _shut(source)

    def expire(self) -> None:
        with self._lock:
            self.expired = not self._answered
            sources = list(self.sources)
        for source in sources:
            _shut(source)


def _shut(source: Callable[[], socket.socket | None]) -> None:
    sock = source()
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # closed already


_current = threading.local()


@contextmanager
def deadline(seconds: float, what: str) -> Iterator[_Watch]:
    """Bound a call in total: sockets registered on the watch (or opened through adapter())
    are shut down once `seconds` have passed, and DeadlineExceeded is raised if the call had
    not said its answer was complete (watch.answered()) by then."""
    watch = _Watch()
    previous = getattr(_current, "watch", None)
    _current.watch = watch
    timer = threading.Timer(seconds, watch.expire)
    timer.daemon = True
    timer.start()
    started = time.monotonic()
    try:
        yield watch
    except Exception as exc:
        if watch.expired:
            raise DeadlineExceeded(f"{what}: no complete answer within {seconds:g} s") from exc
        raise
    finally:
        timer.cancel()
        _current.watch = previous
    if watch.expired:
        raise DeadlineExceeded(f"{what}: no complete answer within {seconds:g} s "
                               f"(gave up after {time.monotonic() - started:.1f} s)")


def watch_socket(source: Callable[[], socket.socket | None]) -> None:
    """Register a socket (by a getter, as it may not exist yet) with the call under way, if any."""
    watch = getattr(_current, "watch", None)
    if watch is not None:
        watch.add(source)


class WatchedConnection(HTTPConnection):
    """A connection whose socket the current call's deadline can shut down, new or reused."""

    def connect(self) -> None:
        super().connect()
        watch_socket(lambda: self.sock)

    def request(self, *args, **kwargs):
        if self.sock is not None:  # a kept-alive connection serving this call
            watch_socket(lambda: self.sock)
        return super().request(*args, **kwargs)


class WatchedHTTPSConnection(WatchedConnection, HTTPSConnection):
    pass


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = WatchedConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """An adapter whose pools make watched connections."""

    pool_classes = {"http": _WatchedPool, "https": _WatchedHTTPSPool}

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self.pool_classes)


def http_session() -> requests.Session:
    """A requests session whose calls can be bounded by deadline()."""
    session = requests.Session()
    adapter = WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def request(session: requests.Session, method: str, url: str, *, total_seconds: float,
            **kwargs) -> requests.Response:
    """One HTTP call, guarded and bounded in total; the body is read before it returns."""
    guard(f"{method} {url}")
    with deadline(total_seconds, f"{method} {url}") as watch:
        kwargs.setdefault("timeout", total_seconds)
        response = session.request(method, url, **kwargs)
        response.content  # read it all under the deadline
        watch.answered()
    return response
