"""Outbox events through real RQ in the PostgreSQL and Redis leg, one commit at a time.

The suite's application hands its committed events to the production RQDispatcher
(one job per event, a batch job per batched topic, on the queues named as in
production), then works those queues with an RQ SimpleWorker in burst mode in the
committing thread. So when a request or a service call returns, its jobs have run,
as with the eager dispatcher of the SQLite leg, but they went through Redis and
RQ's worker loop: serialised by import path, run in an application context and
database session of their own, retried and registered as RQ does.

A job that fails is re-raised in the committing thread once the queues are empty,
as the eager dispatcher raises from the commit: a test that does not expect the
failure fails. So does an event that failed inside a batch job, which production
hands over alone and logs rather than fail the job (an EventsFailed then).
"""
from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from rq import Queue, SimpleWorker
from rq.timeouts import TimerDeathPenalty

from app.extensions import db
from app.outbox import services
from app.outbox.dispatch import QUEUES, RQDispatcher
from app.outbox.models import OutboxEvent

# How long a commit waits for jobs another thread's worker is running (concurrency tests).
SETTLE_TIMEOUT = 120.0


class EventsFailed(RuntimeError):
    """Outbox events failed during a burst although no job raised (in a batch job)."""


class InThreadWorker(SimpleWorker):
    """RQ's SimpleWorker, fit to run inside any thread of the test process.

    Signals belong to the test runner and only the main thread may take them, so
    the worker neither installs handlers nor times jobs out with SIGALRM; and it
    skips the pub/sub thread that listens for `rq` commands, which nothing sends here.
    """

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass

    @property
    def should_run_maintenance_tasks(self):
        # Registry upkeep (abandoned jobs, expired entries) is what a long-lived worker does every ten
        # minutes. This worker lives for one burst, in a thread that cannot abandon a job, and its
        # upkeep at every start was a fifth of the hand-off's CPU.
        return False


class DrainingDispatcher(RQDispatcher):
    """The production RQ hand-off, then a burst of RQ work in the committing thread."""

    def __init__(self, redis_url: str):
        super().__init__(redis_url)
        self._local = threading.local()

    def __call__(self, events: list[tuple[int, str]]) -> int:
        if getattr(self._local, "draining", False):
            return super().__call__(events)  # a job's own commit: the burst under way runs its jobs next
        failed_before = failed_events()
        handed = super().__call__(events)
        self._local.draining = True
        try:
            self.drain(failed_before)
            self.await_processed([event_id for event_id, _topic in events])
        finally:
            self._local.draining = False
        return handed

    def await_processed(self, event_ids: list[int]) -> None:
        """Wait until the commit's own events are processed: a job of this commit's may have been
        taken by another thread's burst, which can still hold its row when this burst finds the
        queues empty. An event that failed there is raised here, as it would be had it failed here."""
        query = sa.select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.attempts, OutboxEvent.last_error,
                          OutboxEvent.enqueued_at, OutboxEvent.leased_until).where(
            OutboxEvent.id.in_(event_ids), OutboxEvent.processed_at.is_(None))
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            with db.engine.connect() as connection:
                pending = connection.execute(query).all()
            if not pending:
                return
            failed = [row for row in pending if row.attempts]
            if failed or time.monotonic() > deadline:
                raise EventsFailed("outbox events of this commit not processed: " + "; ".join(
                    f"event {row.id} ({row.topic}): attempts {row.attempts}, error {row.last_error}, "
                    f"enqueued {row.enqueued_at}, leased until {row.leased_until}" for row in pending))
            time.sleep(0.01)

    def drain(self, failed_before: dict[int, tuple[int, str, str]]) -> None:
        """Work the queues until they are empty and no other thread is still running a job of them."""
        failures: list[BaseException] = []

        def record(job, exc_type, exc_value, traceback):
            failures.append(exc_value)
            return True  # RQ's own handling goes on: the failed or scheduled-for-retry registry

        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            worker = InThreadWorker(QUEUES, connection=self.redis, exception_handlers=[record])
            worker.work(burst=True, logging_level="WARNING")
            if self.settled():
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"RQ jobs still queued or running after {SETTLE_TIMEOUT} s")
            time.sleep(0.01)
        if failures:
            raise failures[0]
        # A failed job has been raised above; this is for failures a batch job only logs.
        batched = services.batch_handlers()
        newly_failed = sorted(failure for failure in failed_events().items() - failed_before.items()
                              if failure[1][1] in batched)
        if newly_failed:
            raise EventsFailed("outbox events failed in a batch job: " + "; ".join(
                f"event {event_id} ({topic}): {error}"
                for event_id, (_attempts, topic, error) in newly_failed))

    def settled(self) -> bool:
        """No job waits in, is being taken from, or is running from any queue."""
        for name in QUEUES:
            queue = Queue(name, connection=self.redis)
            if (queue.count or self.redis.llen(queue.intermediate_queue.key)
                    or queue.started_job_registry.get_job_count(cleanup=False)):
                return False
        return True

    def flush(self) -> None:
        """Forget every queue, job and flag (between tests)."""
        self.redis.flushdb()


def failed_events() -> dict[int, tuple[int, str, str]]:
    """Events that ever failed: id -> (attempts, topic, last error); read on a connection of its own."""
    query = sa.select(OutboxEvent.id, OutboxEvent.attempts, OutboxEvent.topic, OutboxEvent.last_error).where(
        OutboxEvent.last_error.is_not(None))
    with db.engine.connect() as connection:
        return {row.id: (row.attempts, row.topic, row.last_error) for row in connection.execute(query)}
