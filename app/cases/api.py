"""/api/v1/cases: open, list, read, re-rate, and the message thread."""
from __future__ import annotations

from flask import jsonify

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.cases import services
from app.cases.schemas import (CaseCreateSchema, CaseListQuerySchema, CaseDetailSchema, CasePageSchema, CaseSchema,
                               CaseSeverityChangeSchema, MessageCreateSchema, MessageQuerySchema, MessageSchema)

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases", description="Support cases")


@blp.route("", methods=["GET"], endpoint="list")
@blp.operation("list_cases", refuses=(403,))
@blp.arguments(CaseListQuerySchema, location="query")
@blp.response(200, CasePageSchema)
def list_cases(args):
    """Cases the caller may see, newest first (keyset pagination)."""
    page = services.list_cases(api_user(), **args)
    # Built by hand from the list rows: CaseSummarySchema's shape, field for field, without
    # marshmallow's per-field cost on a hot read (tests/api/test_case_list_rows.py compares both).
    return jsonify({"items": [summary(row) for row in page.items], "next_cursor": page.next_cursor})


def summary(row) -> dict:
    """One list row as CaseSummarySchema renders a case."""
    return {
        "id": row.id, "status": row.status, "severity": row.severity, "title": row.title,
        "serial_number": row.serial_number, "software_version": row.software_version,
        "product": {"family": row.family, "model": row.model, "name": row.product_name},
        "customer": {"id": row.customer_id, "name": row.customer_name},
        "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
    }


@blp.route("", methods=["POST"], endpoint="open")
@blp.operation("open_case", refuses=(403, 422))
@blp.arguments(CaseCreateSchema, example={
    "serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S2",
    "title": "Uplink flaps on core switch", "description": "Port 1:49 to the core flaps every few minutes.",
    "hardware_issue": False, "crash": False})
@blp.response(201, CaseSchema)
def open_case(body):
    """Open a case; product and customer follow from the serial's contract."""
    # CaseSchema's shape built by hand, as for the list: the busiest write answers without
    # marshmallow's per-field cost (tests/api/test_case_list_rows.py compares both).
    return jsonify(case_answer(services.open_case(api_user(), body))), 201


def case_answer(case) -> dict:
    """A case as CaseSchema renders it."""
    product, customer, partner = case.product, case.customer, case.partner
    return {
        "id": case.id, "status": case.status.value, "severity": case.severity.value, "title": case.title,
        "serial_number": case.serial_number, "software_version": case.software_version,
        "product": {"family": product.family, "model": product.model, "name": product.name},
        "customer": {"id": customer.id, "name": customer.name},
        "created_at": case.created_at.isoformat(), "updated_at": case.updated_at.isoformat(),
        "description": case.description, "hardware_issue": case.hardware_issue, "crash": case.crash_reported,
        "partner": {"id": partner.id, "name": partner.name},
        "escalated_at": case.escalated_at.isoformat() if case.escalated_at else None,
    }


@blp.route("/<int:case_id>", methods=["GET"], endpoint="get")
@blp.operation("get_case")
@blp.response(200, CaseDetailSchema)
def get_case(case_id):
    """One case, with its scope, checklist summary and SR number once escalated."""
    return services.get_case(api_user(), case_id)


@blp.route("/<int:case_id>/severity", methods=["POST"], endpoint="severity")
@blp.operation("change_case_severity", refuses=(403, 422))
@blp.arguments(CaseSeverityChangeSchema, example={"severity": "S1"})
@blp.response(200, CaseDetailSchema)
def change_severity(body, case_id):
    """The partner re-rates its own open case (once escalated, GTAC rates the SR instead)."""
    return services.change_severity(api_user(), case_id, body["severity"])


@blp.route("/<int:case_id>/messages", methods=["POST"], endpoint="post_message")
@blp.operation("post_case_message", refuses=(403, 422))
@blp.arguments(MessageCreateSchema, example={"channel": "customer", "body": "We are looking at port 1:49 now."})
@blp.response(201, MessageSchema)
def post_message(body, case_id):
    """Post to one channel of the case thread."""
    return services.post_message(api_user(), case_id, body["channel"], body["body"])


@blp.route("/<int:case_id>/messages", methods=["GET"], endpoint="messages")
@blp.operation("list_case_messages", refuses=(403,))
@blp.arguments(MessageQuerySchema, location="query")
@blp.response(200, MessageSchema(many=True))
def list_messages(args, case_id):
    """The thread the caller may read."""
    return services.list_messages(api_user(), case_id, args.get("channel"))
