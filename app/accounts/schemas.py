"""API shapes of users, organisations and tokens."""
import marshmallow as ma
from marshmallow import fields, validate

from app.accounts.models import OrgKind, PartnerTier, Role
from app.bounds import Count

MAX_TOKEN_DAYS = 3650


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
    expires_in_days = Count(strict=True, minimum=1, maximum=MAX_TOKEN_DAYS,
                            metadata={"description": f"the token stops working after this many days "
                                                     f"(1 to {MAX_TOKEN_DAYS}); never, when left out"})


class TokenSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "null: never expires"})
    last_used_at = fields.DateTime(allow_none=True, metadata={
        "description": "when the token last opened the API, to the minute; null: never used"})


class IssuedTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "the secret; shown only in this answer"})
