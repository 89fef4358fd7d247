"""Handing committed outbox events to whatever runs them.

- RQ (REDIS_URL set): one job per event, on the queue named for its topic;
  topics with a batch handler get one job that runs whatever of the topic is
  pending, many events per transaction (see RQDispatcher).
- In-process (embedded default): a single background thread drains the outbox.
- Eager (JOBS_EAGER, used by tests): handlers run right after the commit.

A hand-off that fails leaves the event pending; `flask outbox relay` (and, in
process, the next drain) picks it up, so nothing is lost.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import groupby
from operator import itemgetter

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.job import Job

from app.outbox import services

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
# Queues are named by purpose so that workers can be scaled per kind of work.
QUEUE_BY_TOPIC_PREFIX = {"notify.": "notifications", "payments.": "payments"}
# The periodic jobs (app/scheduling) have a queue of their own, so that a worker that does not fork
# can run them in a warm process (`flask worker --queues scheduled --no-fork`).
SCHEDULED_QUEUE = "scheduled"
QUEUES = (DEFAULT_QUEUE, *QUEUE_BY_TOPIC_PREFIX.values(), SCHEDULED_QUEUE)
JOB_TIMEOUT = 120
BATCH_SIZE = 200
# While this key exists a batch job of the topic is queued; it expires in case that job is lost.
BATCH_FLAG = "outbox:batch-queued:{topic}"
BATCH_FLAG_TTL = 30
# The run_id of the Redis server whose queued jobs the relay last accounted for. Missing (a restart
# without persistence, a flush, a failover to an empty replica) or different (a restart that reloaded
# a snapshot older than its last writes): jobs handed over before may be gone.
SERVER_MARK = "outbox:redis-run-id"


def queue_for(topic: str) -> str:
    """The RQ queue that carries events of this topic."""
    for prefix, queue in QUEUE_BY_TOPIC_PREFIX.items():
        if topic.startswith(prefix):
            return queue
    return DEFAULT_QUEUE


class RQDispatcher:
    """One RQ job per event, on the queue named for its topic; job ids are stable per event.

    A topic with a batch handler is not queued event by event: a commit only makes
    sure one batch job of the topic is queued (a Redis flag set with NX). That job
    lingers a moment (OUTBOX_BATCH_LINGER_MS) while later commits find the flag set
    and queue nothing, clears the flag, then runs every pending event of the topic,
    up to BATCH_SIZE per transaction. At a thousand payouts a minute this is a few
    jobs and transactions a second instead of a thousand. An event committed before
    the flag is cleared is seen by the job; one committed after finds the flag
    cleared and queues the next job. An event that fails in a batch is handed over
    alone, with the usual retries.
    """

    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self._redis: Redis | None = None

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            self._redis = Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=5)
        return self._redis

    def __call__(self, events: list[tuple[int, str]]) -> int:
        """Enqueue events; returns how many were handed over. Never raises: the change is committed."""
        batched = services.batch_handlers()
        handed = 0
        for topic in sorted({topic for _event_id, topic in events if topic in batched}):
            try:
                self.queue_batch(topic)
            except RedisError as exc:
                log.warning("outbox: Redis unavailable, %s events left for the relay: %s", topic, exc)
                continue
            handed += sum(1 for _event_id, event_topic in events if event_topic == topic)
        return handed + self._enqueue([(event_id, topic) for event_id, topic in events if topic not in batched])

    def queue_batch(self, topic: str, *, again: bool = False) -> bool:
        """Make sure a batch job of the topic is queued (`again`: queue one even if one is);
        True if this call queued it."""
        flag = BATCH_FLAG.format(topic=topic)
        if not self.redis.set(flag, "1", nx=not again, ex=BATCH_FLAG_TTL):
            return False
        try:
            Queue(queue_for(topic), connection=self.redis).enqueue(
                "app.outbox.jobs.run_outbox_batch", topic, job_timeout=JOB_TIMEOUT, result_ttl=0)
        except RedisError:
            self.redis.delete(flag)  # so that the relay's next pass queues it, not in 30 s
            raise
        return True

    def run_batches(self, topic: str) -> int:
        """The batch job: run the topic's pending events until none is left; returns how many ran.

        It stops after half its job timeout and queues its successor, so a quarter's
        backlog is never cut off mid-batch; and after a pass with failures, which it
        hands over one by one rather than take them up again at once.
        """
        time.sleep(current_app.config["OUTBOX_BATCH_LINGER_MS"] / 1000)
        self.redis.delete(BATCH_FLAG.format(topic=topic))
        deadline = time.monotonic() + JOB_TIMEOUT / 2
        ran = 0
        while True:
            done, failed = services.run_batch(topic, BATCH_SIZE)
            ran += done
            if failed:
                log.warning("outbox: %d event(s) of %s failed in a batch; handed over one by one",
                            len(failed), topic)
                self._enqueue([(event_id, topic) for event_id in failed])
                return ran
            if done < BATCH_SIZE:
                return ran
            if time.monotonic() > deadline:
                self.queue_batch(topic, again=True)
                return ran

    def hand_over_lost_jobs(self) -> int:
        """After Redis lost its data, hand over again every event whose job went with it; returns how many.

        Runs on every relay pass; it costs one INFO and one SET until the Redis server changes. Then
        each event handed to a job of its own and not yet processed is looked up in Redis, and those
        whose job is missing are queued again at once, not after REDELIVER_AFTER. A job that survived
        (a Redis restarted from its snapshot, or one never marked: the first pass of a relay) is left
        to run, or to wait for RQ's retry. Were a lost job's event being run after all (a work-horse
        outliving its Redis), its row lock or lease makes the new copy skip it (services.run_event).
        An event marked as handed over only after this pass (its commit raced the restart) waits for
        REDELIVER_AFTER as before.
        """
        try:
            run_id = self.redis.info("server")["run_id"]
            # SET ... GET is atomic: of two relays seeing the same new server, one hands the events over.
            if self.redis.set(SERVER_MARK, run_id, get=True) == run_id.encode():
                return 0
        except RedisError as exc:
            log.warning("outbox: Redis unavailable, lost jobs checked once it is back: %s", exc)
            return 0
        try:
            handed = self._hand_over_missing()
        except Exception:
            self._forget_server()  # so that the next pass tries again
            raise
        if handed:
            log.warning("outbox: Redis (run_id %s) had lost the jobs of %d event(s); handed over again",
                        run_id, handed)
        return handed

    def _hand_over_missing(self) -> int:
        handed, after_id = 0, 0
        while batch := services.handed_over(after_id):
            after_id = batch[-1][0]
            try:
                with self.redis.pipeline(transaction=False) as pipe:
                    for event_id, _topic in batch:
                        pipe.exists(Job.key_for(f"outbox-{event_id}"))
                    found = pipe.execute()
            except RedisError as exc:
                log.warning("outbox: Redis went away while lost jobs were looked up: %s", exc)
                self._forget_server()
                break
            missing = [event for event, exists in zip(batch, found) if not exists]
            done = self._enqueue(missing)
            handed += done
            if done < len(missing):  # Redis went away again: the next server is checked afresh
                self._forget_server()
                break
        return handed

    def _forget_server(self) -> None:
        try:
            self.redis.delete(SERVER_MARK)
        except RedisError:
            pass

    def _enqueue(self, events: list[tuple[int, str]]) -> int:
        """One job per event, then the events marked as handed over."""
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
            try:
                services.mark_enqueued(done)
            except Exception:
                # The jobs are queued; the relay hands these events over once more
                # and run_event skips whichever copy comes second.
                log.exception("outbox: could not mark %d event(s) as enqueued", len(done))
        return len(done)


class InProcessDispatcher:
    """Runs events on one background thread of this process, in commit order.

    A commit hands over just its own events; those committed while a drain of
    them is still waiting for the thread (or lingering, OUTBOX_BATCH_LINGER_MS,
    when a topic has a batch handler) join it, so a busy process runs such a
    topic many events to a transaction, as RQ's batch jobs do. The first
    hand-off of a process also drains whatever an earlier process left pending.
    An event whose handler failed is tried again by a retry drain after
    `retry_delay` seconds, doubling while drains keep failing (up to
    `max_retry_delay`). Several web processes each run their own events, so they
    do not queue on each other's rows.
    """

    retry_delay = 30.0
    max_retry_delay = 3600.0

    def __init__(self, app: Flask):
        self.app = app
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._retry_timer: threading.Timer | None = None
        self._failing_drains = 0
        self._closed = False
        self._caught_up = False
        self._waiting: list[tuple[int, str]] = []  # handed over, for the drain queued to take

    def __call__(self, events: list[tuple[int, str]]) -> int:
        with self._lock:
            catch_up, self._caught_up = not self._caught_up, True
            if not catch_up:
                queued = bool(self._waiting)
                self._waiting.extend(events)
                if queued:
                    return len(events)
        if catch_up:
            self._submit()
        else:
            self._submit_waiting()
        return len(events)

    def _submit(self, events: list[tuple[int, str]] | None = None) -> Future:
        return self._thread().submit(self._drain_in_background, events)

    def _submit_waiting(self) -> Future:
        return self._thread().submit(self._drain_waiting)

    def _thread(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
            return self._executor

    def close(self) -> None:
        """Cancel a pending retry and wait for the drain under way (shutting down, tests)."""
        with self._lock:
            self._closed = True
            if self._retry_timer is not None:
                self._retry_timer.cancel()
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def _drain_waiting(self) -> int:
        # As RQ's batch jobs do, a drain of batched topics lingers a moment first: a busy process's
        # commits join it meanwhile, and run many to a transaction rather than one each.
        with self._lock:
            batched = self.app.extensions.get("outbox_batch_handlers", {})
            linger = any(topic in batched for _event_id, topic in self._waiting)
        if linger:
            time.sleep(self.app.config["OUTBOX_BATCH_LINGER_MS"] / 1000)
        with self._lock:
            events, self._waiting = self._waiting, []
        return self._drain_in_background(events)

    def _drain_in_background(self, events: list[tuple[int, str]] | None = None) -> int:
        try:
            return self.drain(events)
        except Exception:  # the database itself failed: nothing ran, try again later
            log.exception("outbox: in-process drain failed")
            self._after_drain(failed=True)
            return 0

    def drain(self, events: list[tuple[int, str]] | None = None) -> int:
        """Run these events (id, topic), or every pending one; returns how many ran. Failures stay pending.

        Consecutive events of a topic with a batch handler run as batches, so commit order is kept."""
        ran = failed = 0
        with self.app.app_context():
            if events is None:
                events = services.undelivered()
            batched = services.batch_handlers()
            for topic, run in groupby(events, key=itemgetter(1)):
                event_ids = [event_id for event_id, _topic in run]
                if topic in batched:
                    for start in range(0, len(event_ids), BATCH_SIZE):
                        part = event_ids[start:start + BATCH_SIZE]
                        try:
                            done, failures = services.run_batch(topic, len(part), only=part)
                        except Exception:  # recorded on the events by run_batch
                            failed += 1
                            continue
                        ran, failed = ran + done, failed + len(failures)
                    continue
                for event_id in event_ids:
                    try:
                        ran += services.run_event(event_id)
                    except Exception:  # recorded on the event by run_event
                        failed += 1
        self._after_drain(failed=bool(failed))
        return ran

    def _after_drain(self, failed: bool) -> None:
        with self._lock:
            if not failed:
                self._failing_drains = 0
                return
            self._failing_drains += 1
            if self._retry_timer is not None or self._closed:
                return  # a retry is already due
            delay = min(self.retry_delay * 2 ** (self._failing_drains - 1), self.max_retry_delay)
            self._retry_timer = threading.Timer(delay, self._retry)
            self._retry_timer.daemon = True
            self._retry_timer.start()

    def _retry(self) -> None:
        with self._lock:
            self._retry_timer = None
            if self._closed:
                return
        self._submit()


class EagerDispatcher:
    """Runs handlers right after the commit, in the committing thread; a handler error propagates."""

    def __call__(self, events: list[tuple[int, str]]) -> int:
        for event_id, _topic in events:
            services.run_event(event_id)
        return len(events)


def make_dispatcher(app: Flask):
    """The dispatcher the configuration asks for: RQ, eager (tests) or in-process."""
    if app.config["REDIS_URL"]:
        return RQDispatcher(app.config["REDIS_URL"])
    if app.config["JOBS_EAGER"]:
        return EagerDispatcher()
    return InProcessDispatcher(app)


def relay(dispatcher) -> int:
    """Hand over every pending event once, and again those whose job a restarted Redis lost;
    returns how many were handed over."""
    handed = dispatcher.hand_over_lost_jobs() if isinstance(dispatcher, RQDispatcher) else 0
    pending = services.undelivered()
    if not pending:
        return handed
    if isinstance(dispatcher, InProcessDispatcher):
        return handed + dispatcher.drain()
    return handed + dispatcher(pending)
