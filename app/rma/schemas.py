"""API shapes of RMAs."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.api_spec import Choice
from app.rma.models import RMAStatus
from app.srs.schemas import NOTE, value_of


class RMAItemInSchema(ma.Schema):
    serial_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    failure_description = fields.String(required=True, validate=validate.Length(min=10, max=5000))


def _distinct_serials(items):
    serials = [item["serial_number"] for item in items]
    if len(set(serials)) != len(serials):
        raise ma.ValidationError("Each serial number once.")


class RMARequestSchema(ma.Schema):
    ship_to = fields.String(required=True, validate=validate.Length(min=10, max=2000),
                            metadata={"description": "address, contact and phone for the replacement"})
    items = fields.List(fields.Nested(RMAItemInSchema), required=True,
                        validate=[validate.Length(min=1, max=5), _distinct_serials])


class RMATransitionSchema(ma.Schema):
    to = fields.String(required=True, validate=Choice(["approved", "rejected", "shipped", "received"], name="RMADecision"))
    note = NOTE
    tracking = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "with to=shipped"})


class RMAItemSchema(ma.Schema):
    serial_number = fields.String()
    failure_description = fields.String()


class RMASchema(ma.Schema):
    id = fields.Integer()
    rma_number = fields.String(attribute="number")
    sr_number = fields.Function(lambda rma: rma.service_request.number)
    status = value_of(RMAStatus)
    ship_to = fields.String()
    items = fields.List(fields.Nested(RMAItemSchema))
    requested_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
    tracking = fields.String(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
