"""API shapes of SRs, their clocks, transitions, thread and timeline."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.accounts.schemas import UserRefSchema
from app.bounds import Count, RecordId
from app.cases.models import Severity
from app.clock import now
from app.api_spec import Choice, choice_of
from app.pagination import PageQuerySchema
from app.rma.models import RMAStatus
from app.srs.models import SRStatus
from app.srs.workflow import SolutionKind

STRICT_BOOL = {"truthy": {True}, "falsy": {False}}
NOTE = fields.String(validate=validate.Length(max=5000), allow_none=True,
                     metadata={"description": "why; shown to GTAC and the partner"})


def _written(text: str) -> None:
    if not text.strip():
        raise ma.ValidationError("Write the solution for the partner.")


class SolutionInSchema(ma.Schema):
    kind = fields.String(required=True, validate=choice_of(SolutionKind))
    content = fields.String(required=True, validate=[validate.Length(max=20000), _written],
                            metadata={"description": "the fix, patch reference, workaround steps or RMA note"})


class TransitionSchema(ma.Schema):
    to = fields.String(required=True, validate=choice_of(SRStatus))
    note = NOTE
    solution = fields.Nested(SolutionInSchema, metadata={"description": "required with to=solution_provided"})
    assignee_id = RecordId(strict=True, metadata={"description": "to=assigned only: a manager assigns someone else"})


class AssignmentSchema(ma.Schema):
    assignee_id = RecordId(required=True, strict=True)
    note = NOTE


class SeverityChangeSchema(ma.Schema):
    severity = fields.String(required=True, validate=choice_of(Severity))
    note = NOTE


class SRMessageInSchema(ma.Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class ManagementEscalationInSchema(ma.Schema):
    level = Count(required=True, strict=True, minimum=1, maximum=3)
    reason = fields.String(required=True, validate=validate.Length(min=10, max=5000))


class SRListQuerySchema(PageQuerySchema):
    queue = fields.String(validate=validate.Length(min=1, max=64))
    status = fields.String(validate=choice_of(SRStatus))
    severity = fields.String(validate=choice_of(Severity))
    breached = fields.Boolean(metadata={"description": "true: an SLA clock is overdue now"})
    assignee_id = RecordId()
    sort = fields.String(load_default="newest", validate=Choice(["newest", "urgency"], name="SRSortOrder"),
                         metadata={"description": "urgency: open SRs (unless status is given), "
                                                  "earliest SLA due time first, paused ones last"})


class HistoryQuerySchema(ma.Schema):
    after = Count(load_default=0)


class EventsQuerySchema(ma.Schema):
    after = Count(metadata={"description": "replay events after this id (as Last-Event-ID)"})


class OrgRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


def value_of(enum_cls):
    """A field showing an enum attribute's value, typed as that enum in the OpenAPI document."""
    return fields.Enum(enum_cls, by_value=True)


class SRSummarySchema(ma.Schema):
    id = fields.Integer()
    sr_number = fields.String(attribute="number")
    case_id = fields.Integer()
    title = fields.Function(lambda sr: sr.case.title)
    status = value_of(SRStatus)
    severity = value_of(Severity)
    queue = fields.String()
    product_family = fields.String()
    region = fields.String(allow_none=True)
    partner = fields.Function(lambda sr: {"id": sr.partner_id, "name": sr.case.partner.name})
    assignee = fields.Nested(UserRefSchema, allow_none=True)
    management_level = fields.Integer()
    created_at = fields.DateTime()
    response_due_at = fields.DateTime()
    update_due_at = fields.DateTime()
    sla_due_at = fields.DateTime(allow_none=True, metadata={"description": "earliest pending due time; "
                                                                             "null while no clock runs"})
    breached = fields.Function(lambda sr: sr.sla_due_at is not None and sr.sla_due_at <= now())


class ClockSchema(ma.Schema):
    state = fields.String(metadata={"description": "running, paused, met or stopped"})
    target_minutes = fields.Function(lambda r: int(r.target.total_seconds() // 60))
    due_at = fields.DateTime(allow_none=True)
    near_breach_at = fields.DateTime(attribute="warn_at", allow_none=True)
    remaining_minutes = fields.Function(
        lambda r: None if r.remaining is None else int(r.remaining.total_seconds() // 60), allow_none=True)
    met_at = fields.DateTime(allow_none=True)
    met_late = fields.Boolean(allow_none=True)
    breached = fields.Function(lambda r: r.due_at is not None and r.due_at <= now())


class ClocksSchema(ma.Schema):
    severity = fields.String()
    initial_response = fields.Nested(ClockSchema, attribute="response")
    update = fields.Nested(ClockSchema)
    due_at = fields.DateTime(allow_none=True)


class SolutionSchema(ma.Schema):
    id = fields.Integer()
    kind = value_of(SolutionKind)
    content = fields.String()
    rma_number = fields.Function(lambda s: s.rma.number if s.rma else None)
    provided_by = fields.Nested(UserRefSchema)
    provided_at = fields.DateTime()


class ManagementEscalationSchema(ma.Schema):
    id = fields.Integer()
    level = fields.Integer()
    reason = fields.String()
    requested_by = fields.Nested(UserRefSchema)
    requested_at = fields.DateTime()


class RMARefSchema(ma.Schema):
    rma_number = fields.String(attribute="number")
    status = value_of(RMAStatus)


class SRDetailSchema(SRSummarySchema):
    breached = fields.Boolean()
    clocks = fields.Nested(ClocksSchema, attribute="plan")
    paused_at = fields.DateTime(allow_none=True)
    responded_at = fields.DateTime(allow_none=True)
    solution_provided_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    reopen_count = fields.Integer()
    allowed_transitions = fields.List(fields.String(), metadata={"description": "what the caller may do now"})
    solutions = fields.List(fields.Nested(SolutionSchema))
    management_escalations = fields.List(fields.Nested(ManagementEscalationSchema))
    rmas = fields.List(fields.Nested(RMARefSchema))


class SRPageSchema(ma.Schema):
    items = fields.List(fields.Nested(SRSummarySchema))
    next_cursor = fields.String(allow_none=True)


class HistoryEventSchema(ma.Schema):
    """One entry of the SR's timeline, as the event stream also sends it."""

    id = fields.Integer()
    sr_number = fields.String()
    kind = fields.String()
    move = fields.String(allow_none=True)
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String(allow_none=True)
    status = fields.String()
    note = fields.String(allow_none=True)
    data = fields.Dict()
    actor = fields.String(allow_none=True)
    at = fields.String()


class SRMessageSchema(ma.Schema):
    id = fields.Integer()
    body = fields.String()
    author = fields.Nested(UserRefSchema)
    created_at = fields.DateTime()
