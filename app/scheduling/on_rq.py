"""The schedule on RQ's own CronScheduler (`rq cron`'s engine), with one job per interval, however many run.

RQ's CronScheduler enqueues each registered function every `interval` seconds
from its own start, under a random job id: two schedulers started by mistake
would double every job. Here the time is cut into slots of the interval (since
the epoch, so every scheduler cuts it the same way); each scheduler wakes at the
start of a slot and enqueues the job under the id `scheduled-<name>-<slot>`,
with RQ's unique enqueue (an atomic check-and-push in Redis). The first one
wins; the others find the id taken and enqueue nothing. A finished job's record
is kept for two intervals, so a late scheduler still finds the id.
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timezone

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.cron import CronJob, CronScheduler
from rq.exceptions import DuplicateJobError
from rq.utils import now
from werkzeug.utils import import_string

from app.scheduling import SCHEDULE, Periodic, interval

log = logging.getLogger(__name__)
FAILED_JOB_TTL = 7 * 24 * 3600


def job_id(name: str, slot: int) -> str:
    return f"scheduled-{name}-{slot}"


def slot_of(moment: datetime, seconds: int) -> int:
    return math.floor(moment.timestamp() / seconds)


class SlotJob(CronJob):
    """A CronJob enqueued once per slot of its interval, under an id every scheduler agrees on."""

    def __init__(self, periodic: Periodic, seconds: int):
        super().__init__(queue_name=periodic.queue, func=import_string(periodic.job), interval=seconds,
                         job_timeout=periodic.timeout, result_ttl=2 * seconds, failure_ttl=FAILED_JOB_TTL,
                         name=periodic.name)

    def enqueue(self, connection: Redis):
        """The job of the current slot, unless another scheduler enqueued it already (then None)."""
        slot = slot_of(now(), self.interval)
        try:
            job = Queue(self.queue_name, connection=connection).enqueue(
                self.func, job_id=job_id(self.name, slot), unique=True, **self.job_options)
        except DuplicateJobError:
            log.debug("scheduler: %s of slot %s was enqueued by another scheduler", self.name, slot)
            return None
        except RedisError as exc:  # this slot is lost; the next one is tried at its time
            log.warning("scheduler: could not enqueue %s (slot %s): %s", self.name, slot, exc)
            return None
        log.info("scheduler: enqueued %s (slot %s) on %s", self.name, slot, self.queue_name)
        return job

    def get_next_enqueue_time(self) -> datetime:
        """The start of the next slot, the same instant for every scheduler."""
        if self.latest_enqueue_time is None:
            return now()
        following = slot_of(self.latest_enqueue_time, self.interval) + 1
        return datetime.fromtimestamp(following * self.interval, tz=timezone.utc)


class Scheduler(CronScheduler):
    """RQ's CronScheduler, kept running through a Redis outage (it would exit on the first error)."""

    def heartbeat(self) -> None:
        try:
            super().heartbeat()
        except RedisError as exc:
            self.log.warning("scheduler: heartbeat failed: %s", exc)

    def save(self, pipeline=None) -> None:
        try:
            super().save(pipeline)
        except RedisError as exc:
            self.log.warning("scheduler: could not record its state: %s", exc)


def make_scheduler(app: Flask, connection: Redis | None = None) -> Scheduler:
    """An RQ CronScheduler with every job of the schedule at its configured interval."""
    scheduler = Scheduler(connection=connection or Redis.from_url(app.config["REDIS_URL"]))
    for periodic in SCHEDULE:
        seconds = interval(periodic, app.config)
        scheduler._cron_jobs.append(SlotJob(periodic, seconds))
        scheduler.log.info("scheduler: %s every %s s on %s", periodic.name, seconds, periodic.queue)
    return scheduler
