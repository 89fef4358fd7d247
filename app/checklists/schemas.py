"""API shapes of a case's checklist (SPEC §10) and of one response."""
from __future__ import annotations

from typing import TYPE_CHECKING

import marshmallow as ma
from marshmallow import fields, validate

from app.api_base import StrictBoolean
from app.checklists.evaluation import Evaluation, ItemResult
from app.checklists.numbering import number_of

if TYPE_CHECKING:
    from app.checklists.services import RecordedResponse

KIND_FIELDS = {
    "text": ("min_length", "allow_not_applicable"),
    "choice": ("options", "reason_required_for"),
    "attachments": ("attachment_kinds", "min_count"),
    "attestation": (),
    "triage_ruling": (),
}


class ResponseBodySchema(ma.Schema):
    value = fields.Raw(allow_none=False, metadata={"description": "the answer; its shape follows the item's kind"})
    not_applicable = StrictBoolean()
    reason = fields.String(validate=validate.Length(max=5000))


class ItemResponseSchema(ma.Schema):
    value = fields.Raw(allow_none=True)
    not_applicable = fields.Boolean()
    reason = fields.String(allow_none=True)
    responded_at = fields.DateTime()
    responded_by = fields.Function(lambda r: r.responded_by.name)


class ChecklistItemSchema(ma.Schema):
    code = fields.String()
    number = fields.Integer(allow_none=True, metadata={
        "description": "the vendor's number of the item (SPEC §4.2); items that split one point share it"})
    title = fields.String()
    help = fields.String()
    kind = fields.String()
    required = fields.Boolean(metadata={"description": "applies to this case and must be met"})
    met = fields.Boolean()
    reason = fields.String(allow_none=True, metadata={"description": "machine-readable reason when not met"})
    message = fields.String()
    min_length = fields.Integer()
    allow_not_applicable = fields.Boolean()
    options = fields.List(fields.String())
    reason_required_for = fields.List(fields.String())
    attachment_kinds = fields.List(fields.String())
    min_count = fields.Integer()
    suggestions = fields.List(fields.String(), metadata={"description": "anomaly ids to rule on"})
    response = fields.Nested(ItemResponseSchema, allow_none=True)


class ChecklistSchema(ma.Schema):
    checklist = fields.String()
    version = fields.Integer()
    title = fields.String()
    complete = fields.Boolean()
    items = fields.List(fields.Nested(ChecklistItemSchema))


def item_document(result: ItemResult, response: RecordedResponse | None,
                  suggestions: list[str]) -> dict:
    item = result.item
    document = {
        "code": item.code, "number": number_of(item.code), "title": item.title, "help": item.help, "kind": item.kind,
        "required": result.required, "met": result.met, "reason": result.reason,
        "message": result.message, "allow_not_applicable": item.allow_not_applicable,
        "response": response,
    }
    for name in KIND_FIELDS[item.kind]:
        value = getattr(item, name)
        document[name] = list(value) if isinstance(value, tuple) else value
    if item.kind == "triage_ruling":
        document["suggestions"] = [str(s) for s in suggestions]
    return document


def checklist_document(evaluation: Evaluation, responses: dict[str, RecordedResponse],
                       suggestions: list[str]) -> dict:
    """The GET .../checklist answer: every item with its kind's needs, met flag and reason."""
    definition = evaluation.definition
    return {
        "checklist": definition.name, "version": definition.version, "title": definition.title,
        "complete": evaluation.complete,
        "items": [item_document(r, responses.get(r.item.code), suggestions) for r in evaluation.results],
    }
