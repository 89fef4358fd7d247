"""POST /api/v1/cases/{id}/escalation."""
from __future__ import annotations

import re

from flask import jsonify, request

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.errors import InvalidInput
from app.escalation import services
from app.escalation.schemas import EscalationRequestSchema, ServiceRequestSchema

blp = Blueprint("escalation", __name__, url_prefix="/api/v1/cases", description="Escalation to GTAC")

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}\Z")


@blp.route("/<int:case_id>/escalation", methods=["POST"], endpoint="escalate")
@blp.operation("escalate_case", refuses=(403, 409, 422))
@blp.arguments(EscalationRequestSchema, required=False, example={"note": "Please check the known defect EXOS-31207."})
@blp.response(201, ServiceRequestSchema)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                      "schema": {"type": "string", "maxLength": 255},
                      "description": "retries with the same key and body return the first answer"}])
def escalate(body, case_id):
    """Escalate the case to GTAC: 201 with the SR number, or 422 with every reason it is refused."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise InvalidInput("Idempotency-Key must be 1 to 255 visible ASCII characters.",
                           code="invalid_idempotency_key")
    answer, created = services.escalate(api_user(), case_id, body or {}, key)
    # services.sr_answer builds ServiceRequestSchema's shape field for field (a replay returns the
    # stored one): answered as it is, without marshmallow's per-field dump on a hot write.
    return jsonify(answer), 201, ({} if created else {"Idempotent-Replayed": "true"})
