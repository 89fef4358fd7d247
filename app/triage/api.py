"""/api/v1/cases/{id}/triage, and resolving a case with a known fix instead of escalating."""
from __future__ import annotations

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.triage import resolution, services
from app.triage.schemas import (ReopenedCaseSchema, ReopeningInSchema, ResolutionInSchema, ResolutionSchema,
                                TriageSchema)

blp = Blueprint("triage", __name__, url_prefix="/api/v1/cases", description="Known anomalies, duplicates, severity")


@blp.route("/<int:case_id>/triage", methods=["GET"], endpoint="triage")
@blp.operation("get_triage", refuses=(403,))
@blp.response(200, TriageSchema)
def triage(case_id):
    """Known anomalies ranked for the case, with evidence and rulings; duplicates; severity flags."""
    return services.triage_case(api_user(), case_id)


@blp.route("/<int:case_id>/resolution", methods=["POST"], endpoint="resolution")
@blp.operation("resolve_case", refuses=(403, 409, 422))
@blp.arguments(ResolutionInSchema, example={"anomaly_id": "EXOS-31207", "note": "Upgrade to 32.7.1 during the next window."})
@blp.response(201, ResolutionSchema)
def resolve(body, case_id):
    """Resolve an open case with the fix of an anomaly ruled 'matches'; the customer is told what to do.

    409 when the case is not open; 422 when the anomaly was not ruled
    'matches' or has no fix or workaround for the case's version.
    """
    return resolution.resolve_with_known_fix(api_user(), case_id, body["anomaly_id"], body.get("note"))


@blp.route("/<int:case_id>/reopening", methods=["POST"], endpoint="reopening")
@blp.operation("reopen_case", refuses=(403, 409))
@blp.arguments(ReopeningInSchema, example={"reason": "The flaps came back after the upgrade."})
@blp.response(200, ReopenedCaseSchema)
def reopen(body, case_id):
    """Reopen a case resolved with a known fix that did not help; it may then be escalated."""
    return resolution.reopen_case(api_user(), case_id, body["reason"])
