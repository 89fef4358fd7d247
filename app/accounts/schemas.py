"""API shapes of users, organisations and tokens."""
import marshmallow as ma
from marshmallow import fields, validate

from app.accounts.models import OrgKind, PartnerTier, Role


class OrganisationSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.Enum(OrgKind, by_value=True)
    tier = fields.Enum(PartnerTier, by_value=True, allow_none=True)
    region = fields.String(allow_none=True)


class MeSchema(ma.Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    organisation = fields.Nested(OrganisationSchema)


class UserRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)


class TokenRequestSchema(ma.Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))


class TokenSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "the secret; shown only in this answer"})
