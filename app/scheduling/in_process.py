"""The schedule on the embedded default: one timer thread of the web process runs the jobs itself.

It starts with the first request a process serves (not with CLI commands) and
stops on stop(). Each process of a deployment without Redis runs its own; the
jobs are safe to run concurrently. A job that fails is logged and runs again at
its next interval.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter

from flask import Flask
from werkzeug.utils import import_string

from app.scheduling import SCHEDULE, interval

log = logging.getLogger(__name__)


class InProcessScheduler:
    def __init__(self, app: Flask):
        self.app = app
        self.entries = [(periodic, interval(periodic, app.config), import_string(periodic.job))
                        for periodic in SCHEDULE if periodic.embedded]
        self.runs: Counter[str] = Counter()  # completed runs per job name
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the timer thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None or self._stopping.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Stop after the job under way, if any."""
        self._stopping.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        due = {periodic.name: time.monotonic() for periodic, _seconds, _job in self.entries}
        while not self._stopping.is_set():
            for periodic, seconds, job in self.entries:
                if self._stopping.is_set():
                    return
                if time.monotonic() < due[periodic.name]:
                    continue
                due[periodic.name] = time.monotonic() + seconds
                try:
                    with self.app.app_context():
                        job()
                    self.runs[periodic.name] += 1
                except Exception:
                    log.exception("scheduler: %s failed; next run in %s s", periodic.name, seconds)
            self._stopping.wait(max(0.0, min(due.values()) - time.monotonic()))
