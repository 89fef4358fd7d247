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


@pytest.fixture
def live_url(app, live_server, monkeypatch):
    """The test app behind a real HTTP server, with short stream heartbeats."""
    monkeypatch.setitem(app.config, "SR_EVENTS_HEARTBEAT_SECONDS", 1)
    return live_server
