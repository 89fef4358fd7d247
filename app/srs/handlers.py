"""Every outbox handler of the SR package, for create_app to register."""
from __future__ import annotations

from app.srs import notifications, webhooks

HANDLERS = {**notifications.HANDLERS, **webhooks.HANDLERS}
