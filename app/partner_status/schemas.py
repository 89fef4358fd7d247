"""API shapes of partner levels, the Partner Performance & Training Dashboard and programme-wide changes."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.accounts.models import PartnerTier
from app.api_spec import Choice, choice_of
from app.bounds import Count, RecordId
from app.pagination import PageQuerySchema
from app.partner_status.changes import KINDS
from app.partner_status.levels import CODE_LENGTH, NAME_LENGTH, SUBJECT_LENGTH
from app.partner_status.models import RequirementKind


class RequirementSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    kind = fields.Enum(RequirementKind, by_value=True)
    subject = fields.String(metadata={"description": "product family, course code or specialisation"})
    minimum = fields.Integer()
    deadline = fields.Date()


class LevelSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    rank = fields.Integer(metadata={"description": "1 is the lowest level"})
    requirements = fields.List(fields.Nested(RequirementSchema))


class LevelRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    rank = fields.Integer()


class StatusPartnerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    tier = fields.Function(lambda p: p.tier.value if p.tier else None)
    region = fields.String(allow_none=True)


class StandingSchema(ma.Schema):
    requirement_id = fields.Integer()
    code = fields.String()
    kind = fields.String()
    subject = fields.String()
    minimum = fields.Integer()
    have = fields.Integer(metadata={"description": "certified engineers, trained engineers, or 1 for a "
                                                   "specialisation held today"})
    met = fields.Boolean()
    deadline = fields.Date()
    waived_until = fields.Date(allow_none=True, metadata={"description": "a programme-wide waiver still running"})
    exception_until = fields.Date(allow_none=True, metadata={"description": "the partner's own exception"})
    exception_granted_until = fields.Date(allow_none=True)
    status = fields.String(metadata={"description": "met, waived, due (before the deadline) or overdue"})


class CertificationLineSchema(ma.Schema):
    product_family = fields.String()
    expires_on = fields.Date()
    expired = fields.Boolean()
    extended_from = fields.Date(allow_none=True, metadata={"description": "expiry before a programme-wide "
                                                                          "extension, if extended"})


class TrainingSchema(ma.Schema):
    course = fields.String()
    completed_on = fields.Date()


class EngineerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    role = fields.String()
    certifications = fields.List(fields.Nested(CertificationLineSchema))
    trainings = fields.List(fields.Nested(TrainingSchema))


class SpecialisationSchema(ma.Schema):
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    active = fields.Boolean()


class RebateSchema(ma.Schema):
    programme = fields.Function(lambda r: {"id": r.programme_id, "name": r.programme_name})
    period = fields.Function(lambda r: {"id": r.period_id, "label": r.period_label})
    currency = fields.String()
    sales = fields.Integer()
    target = fields.Integer()
    attainment_bp = fields.Integer()
    rate_bp = fields.Integer()
    rebate = fields.Integer(metadata={"description": "projected rebate in the period, minor units"})


class PartnerRowSchema(ma.Schema):
    partner = fields.Nested(StatusPartnerSchema)
    level = fields.Nested(LevelRefSchema, allow_none=True)
    valid_through = fields.Date(allow_none=True, metadata={"description": "the level is held through this day"})
    next_review_on = fields.Date(allow_none=True)
    requirements = fields.List(fields.Nested(StandingSchema), attribute="requirement_rows",
                               metadata={"description": "each requirement of the partner's level"})
    rebates = fields.List(fields.Nested(RebateSchema))


class PartnerDashboardSchema(PartnerRowSchema):
    engineers = fields.List(fields.Nested(EngineerSchema))
    specialisations = fields.List(fields.Nested(SpecialisationSchema))


class PartnerListQuerySchema(PageQuerySchema):
    tier = fields.String(validate=choice_of(PartnerTier), load_default=None)
    region = fields.String(validate=validate.Length(min=1, max=16), load_default=None)
    level_id = RecordId(load_default=None)
    unmet = RecordId(load_default=None, metadata={"description": "a requirement id: partners not meeting it"})


class PartnerListSchema(ma.Schema):
    items = fields.List(fields.Nested(PartnerRowSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "the next page's cursor; null on the last"})


class ChangeSchema(ma.Schema):
    kind = fields.String(required=True, validate=Choice(KINDS, name="StatusChangeKind"))
    new_date = fields.Date(required=True, metadata={"description": "held through / review on / deadline / "
                                                                   "extended or waived until this day"})
    requirement_id = RecordId(load_default=None, strict=True,
                              metadata={"description": "push_deadline, waive_requirement"})
    active_on = fields.Date(load_default=None, metadata={"description": "extend_specialisations: those active "
                                                                        "on this day"})
    tier = fields.String(validate=choice_of(PartnerTier), load_default=None,
                         metadata={"description": "extend_levels, move_review, extend_exceptions (default PW)"})
    region = fields.String(validate=validate.Length(min=1, max=16), load_default=None)


class ChangeApplySchema(ChangeSchema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    preview_digest = fields.String(validate=validate.Length(equal=64), load_default=None,
                                   metadata={"description": "the preview's digest: 409 if anything changed since"})


class StatusChangeRowSchema(ma.Schema):
    partner = fields.Function(lambda r: {"id": r.partner_id, "name": r.partner_name})
    subject = fields.String()
    before = fields.Date(allow_none=True)
    after = fields.Date()


class ChangePreviewSchema(ma.Schema):
    kind = fields.String()
    digest = fields.String()
    rows = fields.List(fields.Nested(StatusChangeRowSchema))


class ChangeAppliedSchema(ChangePreviewSchema):
    change_id = fields.Integer()


class ChangeRecordSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    parameters = fields.Dict()
    reason = fields.String()
    affected = fields.Integer()
    created_by = fields.String()
    created_at = fields.DateTime()


class ExceptionGrantSchema(ma.Schema):
    partner_id = RecordId(required=True, strict=True)
    requirement_id = RecordId(required=True, strict=True)
    until = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class ExceptionSchema(ma.Schema):
    id = fields.Integer()
    partner_id = fields.Integer()
    requirement_id = fields.Integer()
    until = fields.Date()
    granted_until = fields.Date()
    reason = fields.String()


class RequirementInSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=CODE_LENGTH),
                         metadata={"description": "unique within the level, e.g. CERT-EXOS"})
    kind = fields.String(required=True, validate=choice_of(RequirementKind))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=SUBJECT_LENGTH),
                            metadata={"description": "a product family (a product of it must exist), a course "
                                                     "or a specialisation"})
    minimum = Count(required=True, strict=True, minimum=1, maximum=10_000,
                    metadata={"description": "engineers needed; 1 for a specialisation"})
    deadline = fields.Date(required=True, metadata={"description": "today or later"})


class LevelCreateSchema(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_LENGTH))
    rank = Count(required=True, strict=True, minimum=1, maximum=1000,
                 metadata={"description": "1 is the lowest level; unique"})
    requirements = fields.List(fields.Nested(RequirementInSchema), load_default=list,
                               validate=validate.Length(max=50))


class StatusSetSchema(ma.Schema):
    level_id = RecordId(required=True, strict=True)
    valid_through = fields.Date(required=True, metadata={"description": "the level is held through this day "
                                                                        "(today or later)"})
    next_review_on = fields.Date(required=True, metadata={"description": "on or before valid_through"})


class PartnerStatusSchema(ma.Schema):
    partner = fields.Nested(StatusPartnerSchema)
    level = fields.Nested(LevelRefSchema)
    valid_through = fields.Date()
    next_review_on = fields.Date()


class TrainingCreateSchema(ma.Schema):
    user_id = RecordId(required=True, strict=True, metadata={"description": "a partner's admin or engineer"})
    course = fields.String(required=True, validate=validate.Length(min=1, max=SUBJECT_LENGTH))
    completed_on = fields.Date(required=True, metadata={"description": "today or earlier"})


class TrainingRecordSchema(ma.Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    course = fields.String()
    completed_on = fields.Date()


class SpecialisationCreateSchema(ma.Schema):
    partner_id = RecordId(required=True, strict=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=SUBJECT_LENGTH))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "on or after starts_on"})


class SpecialisationRecordSchema(ma.Schema):
    id = fields.Integer()
    partner_id = fields.Integer()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
