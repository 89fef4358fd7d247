"""The service under test: gunicorn serving wsgi:app on a free loopback port."""
from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench import cpu


def production_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The settings production refuses to start without, with throwaway secrets, plus `extra`."""
    return {
        "GTAC_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "PAYMENTS_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        # A Fernet key: 32 random bytes, URL-safe base64.
        "PAYEE_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "SR_WEBHOOK_SECRET_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "INTEGRATION_SECRET_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        # The load generator is one address sending thousands of requests: what is measured is the
        # service, not its rate limits.
        "RATE_LIMITS_ENABLED": "0",
        **(extra or {}),
    }


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def stop_cleanly_on_signals() -> None:
    """SIGTERM and SIGINT raise KeyboardInterrupt, so that the harness still stops gunicorn and
    removes its temporary folder when it is stopped."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class GunicornSettings:
    """The gunicorn flags in force, recorded with the results."""
    workers: int
    worker_class: str = "sync"
    threads: int = 1
    backlog: int = 2048
    keepalive: int = 5
    redis_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)  # recorded; secrets are not
    nice: int = 0  # scheduling priority of the master and its workers

    def args(self, port: int) -> list[str]:
        return ["--bind", f"127.0.0.1:{port}", "--workers", str(self.workers),
                "--worker-class", self.worker_class, "--threads", str(self.threads),
                "--backlog", str(self.backlog), "--keep-alive", str(self.keepalive),
                "--log-level", "warning"]

    def describe(self) -> dict:
        return {"command": "gunicorn wsgi:app " + " ".join(self.args(0)[2:]),
                "workers": self.workers, "worker_class": self.worker_class, "threads": self.threads,
                "backlog": self.backlog, "keepalive_s": self.keepalive,
                "redis": bool(self.redis_url), "nice": self.nice,
                "env": {"GTAC_ENV": "production", **self.extra_env}}


class Gunicorn:
    """Starts gunicorn in production mode and stops it again; usable as a context manager."""

    def __init__(self, settings: GunicornSettings, database_url: str, app_dir: Path,
                 env: dict[str, str] | None = None, application: str = "wsgi:app"):
        self.settings = settings
        self.application = application  # what gunicorn serves: the service, or the floor (bench/floor_app.py)
        self.app_dir = app_dir
        # The caller's settings when given (the probe must share the same secrets), else fresh ones.
        self.env = env if env is not None else production_env(database_url, settings.extra_env)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkstemp(prefix="gtac-bench-gunicorn-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        env = {**os.environ, **self.env}
        env.pop("REDIS_URL", None)
        env.pop("JOBS_EAGER", None)
        if self.settings.redis_url:
            env["REDIS_URL"] = self.settings.redis_url
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                ["nice", "-n", str(self.settings.nice),
                 sys.executable, "-m", "gunicorn", self.application, *self.settings.args(self.port)],
                cwd=self.app_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        cpu.prioritise(self.process.pid, self.settings.nice)
        try:
            self._wait_ready()
        except BaseException:
            self._stop()
            raise
        return self

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base_url + "/readyz", timeout=2) as answer:
                    if answer.status == 200 and len(self.worker_pids()) >= self.settings.workers:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn not ready after {timeout}s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the gunicorn master)."""
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in children.split()]

    def pids(self) -> list[int]:
        return [self.process.pid, *self.worker_pids()]

    def __exit__(self, exc_type, *exc) -> None:
        self._stop()
        if exc_type is None:
            self.log_path.unlink(missing_ok=True)  # kept only to explain a failure

    def _stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: gunicorn stops its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own session: master and workers
                self.process.wait()
