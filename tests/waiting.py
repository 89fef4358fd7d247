"""Polling for something that happens in another thread or process, with a clear failure."""
from __future__ import annotations

import time

import pytest


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05, what: str | None = None, explain=None):
    """Poll until predicate() is truthy and return its value; after `timeout` seconds fail the test,
    naming `what` (else the predicate's docstring) and what `explain()` says of the state left."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            state = f"\n{explain()}" if explain is not None else ""
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate.__doc__ or predicate}{state}")
        time.sleep(interval)
