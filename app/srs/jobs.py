"""Periodic SR work, thin: each step is a service that is safe to run twice or on two machines at once."""
from __future__ import annotations

from app.jobs import job_context
from app.srs import alerts
from app.webhooks import services as webhooks


def periodic_pass() -> dict[str, int]:
    """One pass of `flask srs watch`: SLA alerts now due, then webhook retries now due."""
    return {"alerts": alerts.scan(), "webhook_retries": webhooks.deliver_due()}


def watch_sla() -> int:
    """Scheduled: the breach job (the same service bench/srs.py measures); new alerts recorded."""
    with job_context():
        return alerts.scan()


def retry_webhooks() -> int:
    """Scheduled: webhook deliveries whose retry is due."""
    with job_context():
        return webhooks.deliver_due()
