"""POST /webhooks/payments/<provider>: signed status webhooks from the payments provider.

Outside /api/ on purpose: the provider authenticates by signature, not by a
user's bearer token. The signature is verified before any state is touched.
Every answer under /webhooks/ is JSON, errors too, whatever Accept says
(app.api_base.wants_json): a provider's client is no browser.
"""
from __future__ import annotations

from flask import Blueprint, request
from werkzeug.exceptions import UnsupportedMediaType

from app.errors import InvalidInput, NotFound, Unauthorized
from app.extensions import csrf
from app.payments import payouts
from app.payments.providers import InvalidWebhook, MalformedWebhook, get_provider

blp = Blueprint("payments_webhooks", __name__)
WEBHOOK_PROVIDERS = {"sandbox"}


@blp.post("/webhooks/payments/<provider>")
@csrf.exempt
def receive(provider: str):
    """Apply a delivery of provider events (one, or several under "events"); a duplicate changes nothing."""
    if provider not in WEBHOOK_PROVIDERS:
        raise NotFound(f"No webhook endpoint for provider {provider!r}.", code="unknown_provider")
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the webhook as JSON (Content-Type: application/json).")
    body = request.get_data(cache=False)
    try:
        events = get_provider(provider).parse_webhooks(request.headers, body)
    except MalformedWebhook as exc:
        raise InvalidInput(f"Webhook refused: {exc}.", code="malformed_webhook") from None
    except InvalidWebhook as exc:
        raise Unauthorized(f"Webhook refused: {exc}.", code="invalid_signature") from None
    outcomes = payouts.apply_webhooks(provider, events)
    if len(events) == 1:
        return {"received": events[0].event_id, "outcome": outcomes[0]}
    return {"results": [{"received": event.event_id, "outcome": outcome}
                        for event, outcome in zip(events, outcomes)]}
