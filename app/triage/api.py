"""/api/v1/cases/{id}/triage."""
from __future__ import annotations

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.triage import services
from app.triage.schemas import TriageSchema

blp = Blueprint("triage", __name__, url_prefix="/api/v1/cases", description="Known anomalies, duplicates, severity")


@blp.route("/<int:case_id>/triage", methods=["GET"], endpoint="triage")
@blp.response(200, TriageSchema)
def triage(case_id):
    """Known anomalies ranked for the case, with evidence and rulings; duplicates; severity flags."""
    return services.triage_case(api_user(), case_id)
