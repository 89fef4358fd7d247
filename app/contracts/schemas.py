"""API shapes of service contracts and their covered serials."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.accounts.models import PartnerTier
from app.api_spec import choice_of
from app.bounds import RecordId
from app.contracts import rules
from app.pagination import PageQuerySchema

Level = lambda **kw: fields.String(validate=choice_of(PartnerTier), **kw)  # noqa: E731


class ContractCreateSchema(ma.Schema):
    number = fields.String(required=True, validate=validate.Length(min=1, max=rules.NUMBER_MAX))
    level = Level(required=True)
    customer_id = RecordId(strict=True, required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class ContractChangeSchema(ma.Schema):
    level = Level()
    customer_id = RecordId(strict=True)
    starts_on = fields.Date()
    ends_on = fields.Date()


class ContractListQuerySchema(PageQuerySchema):
    number = fields.String(validate=validate.Length(min=1, max=rules.NUMBER_MAX),
                           metadata={"description": "only the contract with this number"})


class SerialCreateSchema(ma.Schema):
    serial_number = fields.String(required=True, validate=validate.Length(min=1, max=rules.SERIAL_MAX))
    product_model = fields.String(required=True, validate=validate.Length(min=1, max=100))


class CoveredSerialSchema(ma.Schema):
    serial_number = fields.String()
    product_model = fields.String(attribute="product.model")
    product_family = fields.String(attribute="product.family")


class CustomerRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class ContractSchema(ma.Schema):
    id = fields.Integer()
    number = fields.String()
    level = fields.Enum(PartnerTier, by_value=True)
    customer = fields.Nested(CustomerRefSchema)
    starts_on = fields.Date()
    ends_on = fields.Date()


class ContractDetailSchema(ContractSchema):
    serials = fields.List(fields.Nested(CoveredSerialSchema))


class ContractPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ContractSchema))
    next_cursor = fields.String(allow_none=True)
