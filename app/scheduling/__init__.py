"""The periodic jobs, declared once: what runs, how often (a setting), and on which RQ queue.

With REDIS_URL, one command enqueues them on RQ at their intervals and the
workers run them (app/scheduling/on_rq.py, `flask scheduler`); on the embedded
default a timer thread of the web process runs them itself
(app/scheduling/in_process.py). Each job is a thin function calling one
service that is safe to run twice or on two machines at once.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.outbox.dispatch import SCHEDULED_QUEUE


@dataclass(frozen=True)
class Periodic:
    name: str  # stable: part of every job id
    job: str  # the job function, "module.function"
    every: str  # the setting that holds its interval in seconds
    queue: str = SCHEDULED_QUEUE
    # Also run by the timer thread on the embedded default (the outbox relay is not: the
    # in-process dispatcher drains and retries the outbox itself).
    embedded: bool = True
    timeout: int = 600


SCHEDULE = (
    Periodic("outbox-relay", "app.outbox.jobs.relay_outbox", every="OUTBOX_RELAY_INTERVAL", embedded=False),
    Periodic("sla-watch", "app.srs.jobs.watch_sla", every="SR_WATCH_INTERVAL"),
    Periodic("webhook-retries", "app.srs.jobs.retry_webhooks", every="WEBHOOK_RETRY_INTERVAL"),
    Periodic("integration-callbacks", "app.integrations.jobs.retry_callbacks", every="WEBHOOK_RETRY_INTERVAL"),
    Periodic("payments-sweep", "app.payments.jobs.sweep_payouts", every="PAYMENTS_SWEEP_INTERVAL"),
    Periodic("idempotency-purge", "app.idempotency.jobs.purge_expired", every="IDEMPOTENCY_PURGE_INTERVAL"),
    Periodic("stale-uploads", "app.files.jobs.abort_stale_uploads", every="ATTACHMENTS_SWEEP_INTERVAL"),
    Periodic("stalled-imports", "app.imports.jobs.take_over_stalled_imports", every="IMPORT_SWEEP_INTERVAL"),
)


def interval(periodic: Periodic, config) -> int:
    seconds = int(config[periodic.every])
    if seconds < 1:
        raise ValueError(f"{periodic.every} must be at least 1 second")
    return seconds
