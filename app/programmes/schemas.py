"""API shapes of rebate programmes, periods, targets, alleviations, sales imports and attainment."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.accounts.models import PartnerTier
from app.api_spec import choice_of
from app.bounds import RecordId
from app.payments.schemas import Currency, MinorUnits, Period


class TierSchema(ma.Schema):
    from_bp = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100_000),
                             metadata={"description": "attainment from which the rate applies, basis points"})
    rate_bp = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10_000),
                             metadata={"description": "rebate rate, basis points of sales"})


class ProgrammeCreateSchema(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    currency = Currency(required=True)
    baseline_target = MinorUnits(required=True)
    tiers = fields.List(fields.Nested(TierSchema), validate=validate.Length(min=1, max=20))


class PeriodCreateSchema(ma.Schema):
    label = Period(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class PeriodSchema(ma.Schema):
    id = fields.Integer()
    label = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    closed = fields.Boolean()
    closed_at = fields.DateTime(allow_none=True)


class ProgrammeSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    currency = fields.String()
    baseline_target = fields.Integer()
    tiers = fields.List(fields.Nested(TierSchema))
    periods = fields.List(fields.Nested(PeriodSchema))
    created_at = fields.DateTime()


class TargetSetSchema(ma.Schema):
    partner_id = RecordId(required=True, strict=True)
    amount = MinorUnits(required=True)
    effective_from = fields.Date(required=True)


class TargetVersionSchema(ma.Schema):
    id = fields.Integer()
    partner_id = fields.Integer()
    period_id = fields.Integer()
    amount = fields.Integer()
    effective_from = fields.Date()


class ProgrammePartnerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class TargetStepSchema(ma.Schema):
    amount = fields.Integer()
    effective_from = fields.Date()
    source = fields.String(metadata={"description": "baseline, set or alleviation"})


class PartnerTargetSchema(ma.Schema):
    partner = fields.Nested(ProgrammePartnerSchema)
    currency = fields.String()
    target = fields.Integer()
    history = fields.List(fields.Nested(TargetStepSchema))


class PartnerTargetsSchema(ma.Schema):
    period = fields.Nested(PeriodSchema)
    items = fields.List(fields.Nested(PartnerTargetSchema))


class AlleviationSchema(ma.Schema):
    effective_from = fields.Date(required=True)
    reduction_bp = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=9999),
                                  metadata={"description": "how much lower, basis points (1000 = 10 %)"})
    tier = fields.String(validate=choice_of(PartnerTier), load_default=None)
    region = fields.String(validate=validate.Length(min=1, max=16), load_default=None)


class AlleviationApplySchema(AlleviationSchema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    preview_digest = fields.String(validate=validate.Length(equal=64), load_default=None,
                                   metadata={"description": "the preview's digest: 409 if anything changed since"})


class AffectedSchema(ma.Schema):
    partner = fields.Function(lambda r: {"id": r.partner_id, "name": r.partner_name})
    old_target = fields.Integer()
    new_target = fields.Integer()


class AlleviationPreviewSchema(ma.Schema):
    period = fields.Nested(PeriodSchema)
    effective_from = fields.Date()
    reduction_bp = fields.Integer()
    digest = fields.String()
    rows = fields.List(fields.Nested(AffectedSchema))


class AlleviationAppliedSchema(AlleviationPreviewSchema):
    alleviation_id = fields.Integer()


class SalesImportQuerySchema(ma.Schema):
    dry_run = fields.Boolean(load_default=False)
    skip_bad = fields.Boolean(load_default=False)


class SalesImportSchema(ma.Schema):
    filename = fields.String()
    lines = fields.Integer()
    created = fields.Integer()
    unchanged = fields.Integer()
    bad_count = fields.Integer()
    bad = fields.List(fields.String(), metadata={"description": "file:line: reason, the first 1000"})
    dry_run = fields.Boolean()
    written = fields.Boolean()


class SegmentSchema(ma.Schema):
    starts_on = fields.Date()
    ends_on = fields.Date()
    target = fields.Integer()
    share = fields.Integer()
    sales = fields.Integer()
    attainment_bp = fields.Integer()


class AttainmentSchema(ma.Schema):
    partner = fields.Function(lambda a: {"id": a.partner_id, "name": a.partner_name})
    currency = fields.String()
    sales = fields.Integer()
    target = fields.Integer(metadata={"description": "the period's day-prorated target"})
    attainment_bp = fields.Integer()
    rate_bp = fields.Integer()
    rebate = fields.Integer(metadata={"description": "projected (open period) or settled rebate"})
    segments = fields.List(fields.Nested(SegmentSchema))


class AttainmentListSchema(ma.Schema):
    period = fields.Nested(PeriodSchema)
    items = fields.List(fields.Nested(AttainmentSchema))


class SettlementSchema(ma.Schema):
    partner = fields.Nested(ProgrammePartnerSchema)
    sales = fields.Integer()
    target = fields.Integer()
    attainment_bp = fields.Integer()
    rate_bp = fields.Integer()
    rebate = fields.Integer()
    claim_id = fields.Integer(allow_none=True)


class CloseSchema(ma.Schema):
    period = fields.Nested(PeriodSchema)
    closed_now = fields.Boolean(metadata={"description": "false when the period was closed already"})
    items = fields.List(fields.Nested(SettlementSchema))


class ApprovedSchema(ma.Schema):
    claim_ids = fields.List(fields.Integer())
