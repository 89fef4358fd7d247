"""API shapes of partners' webhooks and their deliveries."""
from __future__ import annotations

from urllib.parse import urlsplit

import marshmallow as ma
from marshmallow import fields, validate

from app.srs.schemas import value_of
from app.webhooks.models import DeliveryStatus


def _absolute_url(value: str) -> None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a port that is no number raises here
    except ValueError:  # an unclosed "[" of an IPv6 host, a bracketed host that is no address
        raise ma.ValidationError("Not a valid URL.") from None
    if not parts.scheme or not parts.netloc or any(ch.isspace() for ch in value):
        raise ma.ValidationError("Not an absolute URL.")


class WebhookInSchema(ma.Schema):
    # Well-formed here (else 400); http(s) to a public address is the service's rule (422).
    url = fields.String(required=True, validate=[validate.Length(min=1, max=2000), _absolute_url],
                        metadata={"description": "http(s) URL whose host resolves to public addresses only"})


class WebhookSchema(ma.Schema):
    id = fields.Integer()
    url = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()


class NewWebhookSchema(WebhookSchema):
    secret = fields.String(metadata={"description": "signs every delivery; shown only in this answer"})


class DeliverySchema(ma.Schema):
    id = fields.Integer()
    event_id = fields.String()
    topic = fields.String()
    status = value_of(DeliveryStatus)
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
