"""SR test fixtures: a controllable clock and fast ways to put SRs in any state."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.clock import FixedClock, SystemClock

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # a Monday


@pytest.fixture
def clock(app):
    """The application's clock, fixed at T0 and moved only by the test."""
    fixed = FixedClock(T0)
    app.extensions["clock"] = fixed
    yield fixed
    app.extensions["clock"] = SystemClock()


def serve(application, ssl_context=None):
    """Serve an application on a free loopback port from a thread (over TLS with `ssl_context`);
    returns (base url, stop)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, application, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, name="sr-live-server", daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

    return f"{'https' if ssl_context else 'http'}://127.0.0.1:{server.server_port}", stop


@pytest.fixture
def live_url(app):
    """The test app behind a real HTTP server, with short stream heartbeats."""
    saved = app.config["SR_EVENTS_HEARTBEAT_SECONDS"]
    app.config["SR_EVENTS_HEARTBEAT_SECONDS"] = 1
    url, stop = serve(app)
    yield url
    stop()
    app.config["SR_EVENTS_HEARTBEAT_SECONDS"] = saved
