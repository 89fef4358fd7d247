"""API shapes of user administration and of a user's own password."""
import marshmallow as ma
from marshmallow import fields, validate

from app.accounts.models import Role
from app.accounts.passwords import MAX_PASSWORD_LENGTH
from app.accounts.schemas import OrganisationSchema
from app.api_spec import choice_of
from app.bounds import RecordId
from app.pagination import PageQuerySchema


class HeldCertificationSchema(ma.Schema):
    """A certification the user holds, as their own record shows it."""

    product_family = fields.String()
    expires_on = fields.Date()


class UserSchema(ma.Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    organisation = fields.Nested(OrganisationSchema)
    active = fields.Boolean()
    invitation_pending = fields.Boolean(metadata={"description": "invited, and no password chosen yet"})
    created_at = fields.DateTime()
    certifications = fields.List(fields.Nested(HeldCertificationSchema))


class UserPageSchema(ma.Schema):
    items = fields.List(fields.Nested(UserSchema))
    next_cursor = fields.String(allow_none=True)


class UserListQuerySchema(PageQuerySchema):
    q = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "text in the e-mail or name"})
    organisation_id = RecordId(metadata={"description": "only users of this organisation"})
    role = fields.String(validate=choice_of(Role), metadata={"description": "only users of this role"})
    active = fields.Boolean(truthy={"true"}, falsy={"false"},
                            metadata={"description": "true: active users only; false: deactivated only"})


class UserInviteSchema(ma.Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=choice_of(Role))
    organisation_id = RecordId(strict=True, metadata={"description": "default: the caller's own organisation"})


class UserChangeSchema(ma.Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=choice_of(Role))


class PasswordChangeSchema(ma.Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH),
                                 metadata={"description": "at least 12 characters"})


