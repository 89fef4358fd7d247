"""Handing committed outbox events to whatever runs them.

- RQ (REDIS_URL set): one job per event, on the queue named for its topic.
- In-process (embedded default): a single background thread drains the outbox.
- Eager (JOBS_EAGER, used by tests): handlers run right after the commit.

A hand-off that fails leaves the event pending; `flask outbox relay` (and, in
process, the next drain) picks it up, so nothing is lost.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry

from app.outbox import services

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
# Queues are named by purpose so that workers can be scaled per kind of work.
QUEUE_BY_TOPIC_PREFIX = {"notify.": "notifications", "payments.": "payments"}
JOB_TIMEOUT = 120


def queue_for(topic: str) -> str:
    for prefix, queue in QUEUE_BY_TOPIC_PREFIX.items():
        if topic.startswith(prefix):
            return queue
    return DEFAULT_QUEUE


class RQDispatcher:
    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self._redis: Redis | None = None

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            self._redis = Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=5)
        return self._redis

    def __call__(self, events: list[tuple[int, str]]) -> int:
        """Enqueue events; returns how many were handed over. Never raises for Redis trouble."""
        done: list[int] = []
        try:
            for event_id, topic in events:
                Queue(queue_for(topic), connection=self.redis).enqueue(
                    "app.outbox.jobs.run_outbox_event", event_id,
                    job_id=f"outbox-{event_id}", job_timeout=JOB_TIMEOUT,
                    retry=Retry(max=3, interval=[10, 60, 300]),
                )
                done.append(event_id)
        except RedisError as exc:
            log.warning("outbox: Redis unavailable, %d event(s) left for the relay: %s",
                        len(events) - len(done), exc)
        if done:
            services.mark_enqueued(done)
        return len(done)


class InProcessDispatcher:
    """Runs events on one background thread of this process, in commit order."""

    def __init__(self, app: Flask):
        self.app = app
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __call__(self, events: list[tuple[int, str]]) -> int:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._executor.submit(self.drain)
        return len(events)

    def drain(self) -> int:
        """Run every pending event; failures stay pending for the next drain."""
        ran = 0
        with self.app.app_context():
            for event_id, _topic in services.undelivered():
                try:
                    ran += services.run_event(event_id)
                except Exception:  # recorded on the event by run_event
                    continue
        return ran


class EagerDispatcher:
    def __call__(self, events: list[tuple[int, str]]) -> int:
        for event_id, _topic in events:
            services.run_event(event_id)
        return len(events)


def make_dispatcher(app: Flask):
    if app.config["REDIS_URL"]:
        return RQDispatcher(app.config["REDIS_URL"])
    if app.config["JOBS_EAGER"]:
        return EagerDispatcher()
    return InProcessDispatcher(app)


def relay(dispatcher) -> int:
    """Hand over every pending event once; returns how many were handed over."""
    pending = services.undelivered()
    if not pending:
        return 0
    if isinstance(dispatcher, InProcessDispatcher):
        return dispatcher.drain()
    return dispatcher(pending)
