"""RQ entry points: thin functions that run a service inside an app context."""
from __future__ import annotations

from flask import current_app

from app.jobs import job_context
from app.outbox import services
from app.outbox.dispatch import relay


def run_outbox_event(event_id: int) -> bool:
    with job_context():
        return services.run_event(event_id)


def run_outbox_batch(topic: str) -> int:
    with job_context():
        return current_app.extensions["outbox_dispatch"].run_batches(topic)


def relay_outbox() -> int:
    """Scheduled: hand undelivered outbox events over once (what `flask outbox relay` does in a loop)."""
    with job_context():
        return relay(current_app.extensions["outbox_dispatch"])
