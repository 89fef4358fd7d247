"""API shapes of cases and messages (the body fields are SPEC §10's)."""
import marshmallow as ma
from marshmallow import fields, validate

from app.api_base import StrictBoolean
from app.api_spec import choice_of
from app.bounds import WholeMatch
from app.accounts.schemas import UserRefSchema
from app.cases.models import CaseStatus, Channel, Severity
from app.pagination import PageQuerySchema



class CaseCreateSchema(ma.Schema):
    serial_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    software_version = fields.String(required=True, validate=[
        validate.Length(min=1, max=64),
        WholeMatch(r"[0-9A-Za-z][0-9A-Za-z.\-_]*", error="Not a software version."),
    ])
    severity = fields.String(required=True, validate=choice_of(Severity))
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    description = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    hardware_issue = StrictBoolean(load_default=False)
    crash = StrictBoolean(load_default=False, metadata={"description": "the problem is a crash"})
    scope_what = fields.String(validate=validate.Length(max=20000))
    scope_when = fields.String(validate=validate.Length(max=20000))
    scope_how = fields.String(validate=validate.Length(max=20000))


class CaseSeverityChangeSchema(ma.Schema):
    severity = fields.String(required=True, validate=choice_of(Severity))


class CaseListQuerySchema(PageQuerySchema):
    status = fields.String(validate=choice_of(CaseStatus),
                           metadata={"description": "only cases in this status"})
    severity = fields.String(validate=choice_of(Severity),
                             metadata={"description": "only cases of this severity"})
    q = fields.String(validate=validate.Length(min=1, max=200),
                      metadata={"description": "text in the title or serial number"})


class ProductSchema(ma.Schema):
    family = fields.String()
    model = fields.String()
    name = fields.String()


class OrgRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


def _enum_value(enum_cls):
    # Typed in the OpenAPI document as a string with its allowed values.
    return fields.Enum(enum_cls, by_value=True)


class CaseSummarySchema(ma.Schema):
    id = fields.Integer()
    status = _enum_value(CaseStatus)
    severity = _enum_value(Severity)
    title = fields.String()
    serial_number = fields.String()
    software_version = fields.String()
    product = fields.Nested(ProductSchema)
    customer = fields.Nested(OrgRefSchema)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CaseSchema(CaseSummarySchema):
    description = fields.String()
    hardware_issue = fields.Boolean()
    crash = fields.Boolean(attribute="crash_reported")
    partner = fields.Nested(OrgRefSchema)
    escalated_at = fields.DateTime(allow_none=True)


class ScopeSchema(ma.Schema):
    what = fields.String(allow_none=True)
    when = fields.String(allow_none=True)
    how = fields.String(allow_none=True)


class ChecklistSummarySchema(ma.Schema):
    checklist = fields.String()
    version = fields.Integer()
    complete = fields.Boolean()
    unmet = fields.List(fields.String(), metadata={"description": "codes of the required items not met"})


class CaseDetailSchema(CaseSchema):
    """A case with its scope, checklist summary and SR number (null until escalated)."""

    sr_number = fields.String(allow_none=True)
    scope = fields.Nested(ScopeSchema, allow_none=True)
    checklist = fields.Nested(ChecklistSummarySchema, allow_none=True)


class CasePageSchema(ma.Schema):
    items = fields.List(fields.Nested(CaseSummarySchema))
    next_cursor = fields.String(allow_none=True)


class MessageCreateSchema(ma.Schema):
    channel = fields.String(required=True, validate=choice_of(Channel))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class MessageQuerySchema(ma.Schema):
    channel = fields.String(validate=choice_of(Channel),
                            metadata={"description": "only this channel (one the caller may read)"})


class MessageSchema(ma.Schema):
    id = fields.Integer()
    channel = _enum_value(Channel)
    body = fields.String()
    author = fields.Nested(UserRefSchema)
    created_at = fields.DateTime()
