"""/api/v1/cases: open, list, read, and the message thread."""
from __future__ import annotations

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.cases import services
from app.cases.schemas import (CaseCreateSchema, CaseListQuerySchema, CaseDetailSchema, CasePageSchema, CaseSchema,
                               MessageCreateSchema, MessageQuerySchema, MessageSchema)

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases", description="Support cases")


@blp.route("", methods=["GET"], endpoint="list")
@blp.operation("list_cases", refuses=(403,))
@blp.arguments(CaseListQuerySchema, location="query")
@blp.response(200, CasePageSchema)
def list_cases(args):
    """Cases the caller may see, newest first (keyset pagination)."""
    return services.list_cases(api_user(), **args)


@blp.route("", methods=["POST"], endpoint="open")
@blp.operation("open_case", refuses=(403, 422))
@blp.arguments(CaseCreateSchema, example={
    "serial_number": "ACME-0003", "software_version": "32.6.1.4", "severity": "S2",
    "title": "Uplink flaps on core switch", "description": "Port 1:49 to the core flaps every few minutes.",
    "hardware_issue": False, "crash": False})
@blp.response(201, CaseSchema)
def open_case(body):
    """Open a case; product and customer follow from the serial's contract."""
    return services.open_case(api_user(), body)


@blp.route("/<int:case_id>", methods=["GET"], endpoint="get")
@blp.operation("get_case")
@blp.response(200, CaseDetailSchema)
def get_case(case_id):
    """One case, with its scope, checklist summary and SR number once escalated."""
    return services.get_case(api_user(), case_id)


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
