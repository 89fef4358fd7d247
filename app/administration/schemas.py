"""API shapes of the administration: organisations, products, certifications and their extension."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.accounts.models import OrgKind, PartnerTier
from app.accounts.schemas import UserRefSchema
from app.accounts.services import LONGEST_EXTENSION_DAYS
from app.bounds import RecordId
from app.administration.rules import NAME_LENGTH, Region
from app.administration.products import FAMILY_LENGTH, MODEL_LENGTH

def _id(description: str, **kwargs) -> fields.Integer:
    return RecordId(strict=True, metadata={"description": description}, **kwargs)


def _name(required: bool) -> fields.String:
    # Spaces around a name are dropped and a blank one refused by the service (400 either way).
    return fields.String(required=required, validate=validate.Length(min=1, max=NAME_LENGTH))


class OrganisationRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class PartnerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.Enum(OrgKind, by_value=True)
    tier = fields.Enum(PartnerTier, by_value=True)
    region = fields.String()
    suspended = fields.Boolean()
    suspended_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class PartnerInSchema(ma.Schema):
    name = _name(True)
    tier = fields.Enum(PartnerTier, by_value=True, required=True)
    region = fields.Enum(Region, by_value=True, required=True)


class PartnerChangeSchema(ma.Schema):
    name = _name(False)
    tier = fields.Enum(PartnerTier, by_value=True)
    region = fields.Enum(Region, by_value=True)


class CustomerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.Enum(OrgKind, by_value=True)
    partner = fields.Nested(OrganisationRefSchema)
    created_at = fields.DateTime()


class CustomerInSchema(ma.Schema):
    name = _name(True)
    partner_id = _id("the partner serving it", required=True)


class CustomerChangeSchema(ma.Schema):
    name = _name(False)
    partner_id = _id("move it to another partner; its earlier cases stay with the partner that worked them")


class CustomerQuerySchema(ma.Schema):
    partner_id = RecordId(metadata={"description": "only the customers of this partner"})


class ProductModelSchema(ma.Schema):
    id = fields.Integer()
    family = fields.String(metadata={"description": "as the vendor spells it; one family in any case"})
    model = fields.String()
    name = fields.String()


class ProductModelInSchema(ma.Schema):
    family = fields.String(required=True, validate=validate.Length(min=1, max=FAMILY_LENGTH))
    model = fields.String(required=True, validate=validate.Length(min=1, max=MODEL_LENGTH))
    name = _name(True)


class ProductModelChangeSchema(ma.Schema):
    family = fields.String(validate=validate.Length(min=1, max=FAMILY_LENGTH))
    model = fields.String(validate=validate.Length(min=1, max=MODEL_LENGTH))
    name = _name(False)


class CertificationSchema(ma.Schema):
    id = fields.Integer()
    engineer = fields.Nested(UserRefSchema)
    email = fields.String(attribute="engineer.email")
    partner = fields.Nested(OrganisationRefSchema)
    product_family = fields.String()
    expires_on = fields.Date()
    expired = fields.Boolean()


class CertificationQuerySchema(ma.Schema):
    partner_id = RecordId(metadata={"description": "only this partner's engineers"})
    product_family = fields.String(validate=validate.Length(min=1, max=FAMILY_LENGTH),
                                   metadata={"description": "only this family, in any case"})


class ExtensionInSchema(ma.Schema):
    days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=LONGEST_EXTENSION_DAYS))
    product_family = fields.String(validate=validate.Length(min=1, max=FAMILY_LENGTH),
                                   metadata={"description": "only this family, in any case (default: every family)"})
    expiring_before = fields.Date(metadata={"description": "only the certifications expiring before this day"})


class ExtensionSchema(ma.Schema):
    extended = fields.Integer(metadata={"description": "how many certifications moved"})
    days = fields.Integer()
