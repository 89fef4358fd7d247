"""The suite's database served as in production: gunicorn in a process of its own."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served_by_gunicorn(app, *, workers: int = 1, threads: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve the application's database with gthread workers, preloaded in the master as the
    Procfile's web line does; yields the base URL."""
    port = free_port()
    environment = {**os.environ, "GTAC_ENV": "testing", "SECRET_KEY": app.config["SECRET_KEY"],
                   "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://",
                                                                                   "postgresql://"),
                   "JOBS_EAGER": "1", **(env or {})}
    environment.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(workers),
         "--threads", str(threads), "--preload", "--graceful-timeout", "2", "--bind", f"127.0.0.1:{port}",
         "wsgi:app"],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a busy machine takes a while to import the application
    try:
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, "gunicorn exited at start-up"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield base
    finally:  # also when it never answered: no server outlives its test
        process.terminate()
        process.wait(timeout=15)
