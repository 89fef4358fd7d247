"""RQ entry points: thin functions that run a service inside an app context."""
from __future__ import annotations

from flask import current_app

from app.jobs import job_context
from app.outbox import services


def run_outbox_event(event_id: int) -> bool:
    with job_context():
        return services.run_event(event_id)


def run_outbox_batch(topic: str) -> int:
    with job_context():
        return current_app.extensions["outbox_dispatch"].run_batches(topic)
