"""/api/v1/srs: GTAC's SRs (all) and a partner's (its own); customers and programmes see none."""
from __future__ import annotations

from flask import jsonify

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.clock import now
from app.srs import queries, services, streams
from app.srs.schemas import (AssignmentSchema, EventsQuerySchema, HistoryEventSchema, HistoryQuerySchema,
                             ManagementEscalationInSchema, ManagementEscalationSchema, SeverityChangeSchema,
                             SRDetailSchema, SRListQuerySchema, SRMessageInSchema, SRMessageSchema, SRPageSchema,
                             TransitionSchema)

blp = Blueprint("srs", __name__, url_prefix="/api/v1/srs", description="GTAC service requests")


@blp.route("", methods=["GET"], endpoint="list")
@blp.operation("list_srs", refuses=(403,))
@blp.arguments(SRListQuerySchema, location="query")
@blp.response(200, SRPageSchema)
def list_srs(args):
    """SRs the caller may see: filters queue, status, severity, breached, assignee; keyset pagination."""
    page = queries.list_srs(api_user(), **args)
    at = now()
    # Built by hand from the list rows: SRSummarySchema's shape, field for field, without
    # marshmallow's per-field cost on the busiest read (tests/srs/test_list_rows.py compares both).
    return jsonify({"items": [summary(row, at) for row in page.items], "next_cursor": page.next_cursor})


def summary(row, at) -> dict:
    """One list row (queries.ROW_COLUMNS) as SRSummarySchema renders an SR."""
    due = row.sla_due_at
    return {
        "id": row.id, "sr_number": row.number, "case_id": row.case_id, "title": row.title,
        "status": row.status, "severity": row.severity, "queue": row.queue,
        "product_family": row.product_family, "region": row.region,
        "partner": {"id": row.partner_id, "name": row.partner_name},
        "assignee": ({"id": row.assignee_id, "name": row.assignee_name, "role": row.assignee_role}
                     if row.assignee_id is not None else None),
        "management_level": row.management_level,
        "created_at": row.created_at.isoformat(), "response_due_at": row.response_due_at.isoformat(),
        "update_due_at": row.update_due_at.isoformat(),
        "sla_due_at": due.isoformat() if due is not None else None,
        "breached": due is not None and due <= at,
    }


@blp.route("/<sr_number>", methods=["GET"], endpoint="get")
@blp.operation("get_sr")
@blp.response(200, SRDetailSchema)
def get_sr(sr_number):
    """One SR with its SLA clocks, solutions, management escalations and RMAs."""
    return services.get_sr(api_user(), sr_number)


@blp.route("/<sr_number>/transitions", methods=["POST"], endpoint="transition")
@blp.operation("transition_sr", refuses=(403, 409, 422))
@blp.arguments(TransitionSchema, example={
    "to": "solution_provided", "note": "Fixed in 32.7.1.",
    "solution": {"kind": "fix", "content": "Upgrade to 32.7.1, which fixes EXOS-31207."}})
@blp.response(200, SRDetailSchema)
def transition(body, sr_number):
    """Move the SR (SPEC §6); 409 on an illegal transition, 403 when the caller's role may not make it."""
    user = api_user()
    services.transition(user, sr_number, body["to"], note=body.get("note"), solution=body.get("solution"),
                        assignee_id=body.get("assignee_id"))
    return services.get_sr(user, sr_number)


@blp.route("/<sr_number>/assignment", methods=["POST"], endpoint="assign")
@blp.operation("assign_sr", refuses=(403, 409, 422))
@blp.arguments(AssignmentSchema, example={"assignee_id": 7, "note": "Fabric specialist takes over."})
@blp.response(200, SRDetailSchema)
def assign(body, sr_number):
    """A GTAC manager assigns or reassigns the SR."""
    user = api_user()
    services.assign(user, sr_number, body["assignee_id"], body.get("note"))
    return services.get_sr(user, sr_number)


@blp.route("/<sr_number>/severity", methods=["POST"], endpoint="severity")
@blp.operation("change_sr_severity", refuses=(403, 409))
@blp.arguments(SeverityChangeSchema, example={"severity": "S1", "note": "The whole site is down now."})
@blp.response(200, SRDetailSchema)
def change_severity(body, sr_number):
    """GTAC changes the SR's severity; the SLA targets are re-planned."""
    user = api_user()
    services.change_severity(user, sr_number, body["severity"], body.get("note"))
    return services.get_sr(user, sr_number)


@blp.route("/<sr_number>/messages", methods=["POST"], endpoint="post_message")
@blp.operation("post_sr_message", refuses=(403, 409))
@blp.arguments(SRMessageInSchema, example={"body": "Please send the output of show log during a flap."})
@blp.response(201, SRMessageSchema)
def post_message(body, sr_number):
    """Write on the partner<->GTAC thread of the SR."""
    return services.post_message(api_user(), sr_number, body["body"])


@blp.route("/<sr_number>/management-escalations", methods=["POST"], endpoint="management_escalation")
@blp.operation("escalate_sr_to_management", refuses=(403, 409))
@blp.arguments(ManagementEscalationInSchema, example={"level": 1, "reason": "Production site down for four hours."})
@blp.response(201, ManagementEscalationSchema)
def management_escalation(body, sr_number):
    """The partner asks GTAC management to look at the SR (level 1 to 3, higher than now)."""
    return services.request_management_escalation(api_user(), sr_number, body["level"], body["reason"])


@blp.route("/<sr_number>/history", methods=["GET"], endpoint="history")
@blp.operation("list_sr_history")
@blp.arguments(HistoryQuerySchema, location="query")
@blp.response(200, HistoryEventSchema(many=True))
def history(args, sr_number):
    """The SR's timeline after an event id, oldest first."""
    return services.history(api_user(), sr_number, after_id=args["after"])[1]


@blp.route("/<sr_number>/events", methods=["GET"], endpoint="events")
@blp.operation("stream_sr_events", refuses=(429,))
@blp.arguments(EventsQuerySchema, location="query")
@blp.doc(responses={"200": {"description": "server-sent events: status changes, messages, assignments",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
def sr_events(args, sr_number):
    """Server-sent events of the SR; send Last-Event-ID (or ?after=) to replay what was missed."""
    return streams.event_stream(api_user(), sr_number, args.get("after"))
