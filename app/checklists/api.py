"""/api/v1/cases/{id}/checklist: read the evaluation, answer one item."""
from __future__ import annotations

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.checklists import services
from app.checklists.schemas import ChecklistSchema, ItemResponseSchema, ResponseBodySchema, checklist_document

blp = Blueprint("checklists", __name__, url_prefix="/api/v1/cases", description="The GTAC checklist of a case")


@blp.route("/<int:case_id>/checklist", methods=["GET"], endpoint="get")
@blp.operation("get_checklist", refuses=(403,))
@blp.response(200, ChecklistSchema)
def get_checklist(case_id):
    """Every item of the case's pinned checklist with met, reason and what its kind needs."""
    view = services.get_checklist(api_user(), case_id)
    return checklist_document(view.evaluation, view.responses, view.suggestions)


@blp.route("/<int:case_id>/checklist/<string:code>", methods=["PUT"], endpoint="respond")
@blp.operation("answer_checklist_item", refuses=(403, 409, 422))
@blp.arguments(ResponseBodySchema, example={"value": "Uplink 1:49 flaps every few minutes; users lose sessions."})
@blp.response(200, ItemResponseSchema)
def respond(body, case_id, code):
    """Record the response to one item: {"value": V} or {"not_applicable": true, "reason": "..."}."""
    return services.record_response(api_user(), case_id, code, body)
