"""Periodic SR work, thin: each step is a service that is safe to run twice or on two machines at once."""
from __future__ import annotations

from app.srs import alerts
from app.webhooks import services as webhooks


def periodic_pass() -> dict[str, int]:
    """One pass of `flask srs watch`: SLA alerts now due, then webhook retries now due."""
    return {"alerts": alerts.scan(), "webhook_retries": webhooks.deliver_due()}
