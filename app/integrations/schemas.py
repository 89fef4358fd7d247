"""API shapes of integrations and of the claims they push."""
from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import fields, validate

from app.api_spec import choice_of
from app.bounds import RecordId, WholeMatch
from app.integrations.models import CallbackStatus, IntegrationStatus
from app.payments.models import ClaimType
from app.payments.schemas import Currency, MinorUnits, Period
from app.srs.schemas import value_of
from app.webhooks.schemas import _absolute_url

# The platform's claim reference: printable ASCII without spaces, as it goes into e-mails and files.
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#-]{0,99}")


class IntegrationInSchema(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    callback_url = fields.String(required=True, validate=[validate.Length(min=1, max=2000), _absolute_url],
                                 metadata={"description": "where signed status callbacks go: http(s), "
                                                          "to public addresses only"})


class IntegrationSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    callback_url = fields.String()
    status = value_of(IntegrationStatus)
    created_at = fields.DateTime()


class NewIntegrationSchema(IntegrationSchema):
    secret = fields.String(metadata={"description": "signs every request and callback; shown only in this answer"})


class ClaimPushSchema(ma.Schema):
    reference = fields.String(required=True, validate=WholeMatch(
        REFERENCE, error="1 to 100 letters, digits and . _ : / # - (the platform's claim reference)."),
        metadata={"description": "the platform's own claim reference: the idempotency key"})
    partner_id = RecordId(required=True, strict=True)
    type = fields.String(required=True, validate=choice_of(ClaimType))
    amount = MinorUnits(required=True)
    currency = Currency(required=True)
    period = Period(required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class ClaimPushedSchema(ma.Schema):
    reference = fields.String()
    claim_id = fields.Integer()
    payout_id = fields.Integer()
    payout_reference = fields.String(metadata={"description": "the payment's reference, as the bank shows it"})
    partner_id = fields.Integer()
    amount = fields.Integer()
    currency = fields.String()
    status = fields.String(metadata={"description": "accepted: approved and sent for payment; "
                                                    "callbacks report paid, failed or returned"})


class CallbackSchema(ma.Schema):
    id = fields.Integer()
    event_id = fields.String()
    topic = fields.String()
    status = value_of(CallbackStatus)
    attempts = fields.Integer()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
