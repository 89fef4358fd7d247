"""API shapes of claims, payouts, funding, balances, allocations and payee details."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate

from app.bounds import RecordId, WholeMatch
from app.payments.models import ClaimStatus, ClaimType, PayeeKind, PayoutStatus
from app.api_spec import choice_of
from app.payments.money import MAX_AMOUNT, PERIOD, is_currency
from app.pagination import PageQuerySchema


class MinorUnits(fields.Integer):
    """A positive integer amount in minor units: no floats, strings or booleans."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("An integer number of minor units (cents), e.g. 123456.")
        return super()._deserialize(value, attr, data, **kwargs)


def _currency(value: str) -> None:
    if not is_currency(value):
        raise ValidationError("Not an ISO 4217 currency code (e.g. USD, EUR).")


Currency = lambda **kw: fields.String(validate=_currency, **kw)  # noqa: E731
Period = lambda **kw: fields.String(  # noqa: E731
    validate=WholeMatch(PERIOD, error="A programme period such as 2026-Q3."), **kw)


class ClaimCreateSchema(ma.Schema):
    type = fields.String(required=True, validate=choice_of(ClaimType))
    amount = MinorUnits(required=True)
    currency = Currency(required=True)
    period = Period(required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class ClaimChangeSchema(ma.Schema):
    """A draft's changes: only the fields sent change, and at least one is sent."""

    amount = MinorUnits()
    currency = Currency()
    period = Period()
    description = fields.String(validate=validate.Length(min=1, max=5000))

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Send at least one of amount, currency, period and description.")
        if "currency" in data and "amount" not in data:  # minor units of one currency are not another's
            raise ma.ValidationError("Send the amount with its new currency.", field_name="amount")


class ClaimRejectSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


MAX_BULK_APPROVALS = 100


def _unique(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Each claim may be named once.")


class ClaimApprovalsSchema(ma.Schema):
    claim_ids = fields.List(RecordId(strict=True),
                            required=True, validate=[validate.Length(min=1, max=MAX_BULK_APPROVALS), _unique])


class ClaimListQuerySchema(PageQuerySchema):
    status = fields.String(validate=choice_of(ClaimStatus))
    type = fields.String(validate=choice_of(ClaimType))


class PartnerRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class ClaimProofSchema(ma.Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    sha256 = fields.String()
    created_at = fields.DateTime()


class PayoutRefSchema(ma.Schema):
    id = fields.Integer()
    status = fields.Enum(PayoutStatus, by_value=True)
    reference = fields.String()
    attempt = fields.Integer()
    paid_at = fields.DateTime(allow_none=True)


class ClaimSchema(ma.Schema):
    id = fields.Integer()
    status = fields.Enum(ClaimStatus, by_value=True)
    type = fields.Enum(ClaimType, by_value=True)
    amount = fields.Integer()
    currency = fields.String()
    period = fields.String()
    description = fields.String()
    partner = fields.Nested(PartnerRefSchema)
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    first_approved_by_id = fields.Integer(allow_none=True)
    first_approved_at = fields.DateTime(allow_none=True)
    approved_by_id = fields.Integer(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    return_reason = fields.String(allow_none=True)
    awaiting_second_approval = fields.Function(
        lambda c: c.status is ClaimStatus.SUBMITTED and c.first_approved_by_id is not None)
    payout_status = fields.Function(lambda c: c.payout.status.value if c.payout else None)
    payout = fields.Nested(PayoutRefSchema, allow_none=True)
    attachments = fields.List(fields.Nested(ClaimProofSchema))


class ClaimPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ClaimSchema))
    next_cursor = fields.String(allow_none=True)


class ClaimApprovedSchema(ma.Schema):
    items = fields.List(fields.Nested(ClaimSchema))


class ClaimRefSchema(ma.Schema):
    id = fields.Integer()
    type = fields.Enum(ClaimType, by_value=True)
    period = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    description = fields.String()


class PayoutSchema(ma.Schema):
    id = fields.Integer()
    status = fields.Enum(PayoutStatus, by_value=True)
    reference = fields.String(metadata={"description": "as the partner's bank statement shows it"})
    amount = fields.Integer()
    currency = fields.String()
    partner = fields.Nested(PartnerRefSchema)
    claim_ids = fields.Function(lambda p: [p.claim_id])
    claims = fields.Function(lambda p: [ClaimRefSchema().dump(p.claim)])
    provider = fields.String()
    provider_payout_id = fields.String(allow_none=True)
    attempt = fields.Integer()
    approved_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)
    returned_at = fields.DateTime(allow_none=True)
    failure_reason = fields.String(allow_none=True)
    return_reason = fields.String(allow_none=True)


class PayoutListQuerySchema(PageQuerySchema):
    status = fields.String(validate=choice_of(PayoutStatus))
    claim_id = RecordId()


class PayoutPageSchema(ma.Schema):
    items = fields.List(fields.Nested(PayoutSchema))
    next_cursor = fields.String(allow_none=True)


class FundingCreateSchema(ma.Schema):
    amount = MinorUnits(required=True)
    currency = Currency(required=True)
    reference = fields.String(required=True, validate=[
        validate.Length(min=1, max=140),
        WholeMatch(r"[\w.\-/: ]+", error="Letters, digits and . - / : _ only.")],
        metadata={"description": "the bank's reference of the deposit; repeating it is idempotent"})


class FundingSchema(ma.Schema):
    id = fields.Integer()
    status = fields.Function(lambda d: "posted")
    amount = fields.Integer()
    currency = fields.String()
    reference = fields.String()
    created_at = fields.DateTime()
    released_payout_ids = fields.List(fields.Integer())
    available = fields.Integer(metadata={"description": "pre-funding available after this deposit"})


class PrefundingSchema(ma.Schema):
    posted = fields.Integer()
    pending = fields.Integer(metadata={"description": "reserved by approved payouts not yet paid"})
    available = fields.Integer()


class PipelineSchema(ma.Schema):
    status = fields.String()
    count = fields.Integer()
    amount = fields.Integer()


class BalanceSchema(ma.Schema):
    currency = fields.String()
    prefunding = fields.Nested(PrefundingSchema)
    pending_total = fields.Integer()
    payable_total = fields.Integer(metadata={"description": "owed to partners, not yet handed to the provider"})
    in_transit_total = fields.Integer(metadata={"description": "handed to the provider, not yet confirmed paid"})
    paid_total = fields.Integer()
    funded_total = fields.Integer()
    awaiting_funds_total = fields.Integer()
    pipeline = fields.List(fields.Nested(PipelineSchema))


class BalancesSchema(ma.Schema):
    balances = fields.List(fields.Nested(BalanceSchema))


class AllocationSetSchema(ma.Schema):
    partner_id = RecordId(required=True, strict=True)
    period = Period(required=True)
    currency = Currency(required=True)
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_AMOUNT))


class AllocationSchema(ma.Schema):
    id = fields.Integer()
    partner = fields.Nested(PartnerRefSchema)
    period = fields.String()
    currency = fields.String()
    amount = fields.Integer()
    used = fields.Integer()
    remaining = fields.Integer()


class AllocationQuerySchema(ma.Schema):
    partner_id = RecordId()


class PayeeSetSchema(ma.Schema):
    kind = fields.String(required=True, validate=choice_of(PayeeKind))
    holder_name = fields.String(required=True, validate=validate.Length(min=2, max=140))
    iban = fields.String(validate=validate.Length(max=42))
    bic = fields.String(validate=validate.Length(max=11))
    account_number = fields.String(validate=validate.Length(max=20))
    routing_number = fields.String(validate=validate.Length(max=12))


class PayeeSchema(ma.Schema):
    kind = fields.Enum(PayeeKind, by_value=True)
    holder_name = fields.String()
    masked = fields.String(metadata={"description": "the account, masked; never shown in clear"})
    updated_at = fields.DateTime()


class PayeeQuerySchema(ma.Schema):
    partner_id = RecordId()


class StatementExceptionSchema(ma.Schema):
    line = fields.Integer(allow_none=True)
    reference = fields.String()
    code = fields.String()
    message = fields.String()


class StatementImportSchema(ma.Schema):
    id = fields.Integer()
    filename = fields.String()
    lines = fields.Integer()
    matched = fields.Integer()
    exceptions = fields.List(fields.Nested(StatementExceptionSchema))
    created_at = fields.DateTime()
