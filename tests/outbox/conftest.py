"""Real services for the job tests: a private Redis, a real SMTP server, real RQ workers.

The Redis server is started by the test on a free loopback port so that it can
be stopped and started again without touching anybody else's Redis.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from redis import Redis
from redis.exceptions import RedisError

from app import create_app
from app.extensions import db
from app.outbox.dispatch import QUEUES, InProcessDispatcher
from app.outbox.models import OutboxEvent
from app.outbox.worker import AppWorker
from tests.conftest import need
from tests.served import free_port
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    """A redis-server process of our own, without persistence."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers():
            """redis-server to answer PING"""
            try:
                return client.ping()
            except RedisError:
                assert self.process.poll() is None, "redis-server exited at start-up"
                return False

        wait_until(answers, timeout=10)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path):
    """A private Redis; the test may stop() and start() it. Running when the test begins."""
    need("redis", shutil.which("redis-server") is not None,
         "needs the redis-server binary (Debian package redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


class Mailbox:
    """An SMTP server's inbox; it can refuse the next deliveries or hold them back."""

    def __init__(self):
        self.messages: list = []
        self.refuse_next = 0
        self.released = threading.Event()
        self.released.set()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next:
            self.refuse_next -= 1
            return "451 4.3.0 Mail system temporarily unavailable"
        deadline = time.monotonic() + 20
        while not self.released.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        message = message_from_bytes(envelope.content, policy=default_policy)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def about_case(self, case_id: int) -> list:
        return [m for m in self.messages if m["Subject"].startswith(f"[Case {case_id}]")]


@pytest.fixture
def mailbox():
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    inbox = Mailbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    inbox.released.set()
    controller.stop()


@pytest.fixture
def jobs_app(app, mailbox, tmp_path):
    """Build apps on the suite's database with real jobs (JOBS_EAGER off) and real mail.

    Call it with the Redis URL, or None for the in-process dispatcher.
    """
    built = []

    def build(redis_url: str | None):
        application = create_app({
            "REDIS_URL": redis_url, "JOBS_EAGER": False,
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": mailbox.port,
            "PUBLIC_URL": "https://triage.example",
        }, instance_path=str(tmp_path / f"instance-{len(built)}"))
        assert application.config["SQLALCHEMY_DATABASE_URI"] == app.config["SQLALCHEMY_DATABASE_URI"]
        built.append(application)
        return application

    yield build
    mailbox.released.set()
    for application in built:
        dispatcher = application.extensions["outbox_dispatch"]
        if isinstance(dispatcher, InProcessDispatcher):
            dispatcher.close()
        with application.app_context():
            db.engine.dispose()


def process_env(application) -> dict:
    """The environment a separate process needs to be this application."""
    env = dict(os.environ)
    env.update({
        "FLASK_APP": "wsgi.py", "GTAC_ENV": "testing", "SECRET_KEY": "test-secret",
        "DATABASE_URL": os.environ["DATABASE_URL"], "JOBS_EAGER": "0",
        "REDIS_URL": application.config["REDIS_URL"] or "",
        "MAIL_SERVER": application.config["MAIL_SERVER"],
        "MAIL_PORT": str(application.config["MAIL_PORT"]),
        "PUBLIC_URL": application.config["PUBLIC_URL"],
    })
    return env


def run_worker(application, *options: str) -> subprocess.CompletedProcess:
    """`flask worker --burst` (with `options`) in its own process: runs every queued job, then exits."""
    finished = subprocess.run([sys.executable, "-m", "flask", "worker", "--burst", *options], cwd=ROOT,
                              env=process_env(application), capture_output=True, text=True,
                              timeout=120)
    assert finished.returncode == 0, finished.stderr[-4000:]
    return finished


def work_queues(application) -> None:
    """What `flask worker --burst` does, from this process: a forked work-horse per job."""
    with application.app_context():
        worker = AppWorker(list(QUEUES),
                           connection=Redis.from_url(application.config["REDIS_URL"]))
        worker.work(burst=True, with_scheduler=True)


def relay_once(application) -> str:
    """`flask outbox relay --once`; returns what it printed."""
    result = application.test_cli_runner().invoke(args=["outbox", "relay", "--once"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def outbox_event(application, event_id: int) -> OutboxEvent:
    with application.app_context():
        return db.session.get(OutboxEvent, event_id)


def case_opened_event(application, case_id: int) -> OutboxEvent:
    """The notify.case_opened event written with this case."""
    with application.app_context():
        events = db.session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.topic == "notify.case_opened")).all()
        matching = [event for event in events if event.payload.get("case_id") == case_id]
        assert len(matching) == 1, f"expected one case_opened event for case {case_id}: {matching}"
        return matching[0]
