"""/api/v1/partner-status: levels, the Partner Performance & Training Dashboard, programme-wide changes."""
from __future__ import annotations

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.partner_status import changes, dashboard, levels
from app.partner_status.schemas import (ChangeAppliedSchema, ChangeApplySchema, ChangePreviewSchema,
                                        ChangeRecordSchema, ChangeSchema, ExceptionGrantSchema, ExceptionSchema,
                                        LevelSchema, PartnerDashboardSchema, PartnerListQuerySchema,
                                        PartnerListSchema)

blp = Blueprint("partner_status", __name__, url_prefix="/api/v1/partner-status",
                description="Partner status, training and specialisations")


@blp.route("/levels", methods=["GET"], endpoint="list_levels")
@blp.operation("list_partner_levels", refuses=(403,))
@blp.response(200, LevelSchema(many=True))
def list_levels():
    """The partner levels, lowest first, each with its requirements and their deadlines."""
    return dashboard.levels(api_user())


@blp.route("/partners", methods=["GET"], endpoint="list_partners")
@blp.operation("list_partner_status", refuses=(403,))
@blp.arguments(PartnerListQuerySchema, location="query")
@blp.response(200, PartnerListSchema)
def list_partners(args):
    """Every partner's level, review, requirements and rebate attainment (a partner: its own row),
    filtered by tier, region, level or a requirement not met."""
    return {"items": dashboard.all_dashboards(api_user(), **args)}


@blp.route("/partners/<int:partner_id>", methods=["GET"], endpoint="partner_dashboard")
@blp.operation("get_partner_dashboard", refuses=(403,))
@blp.response(200, PartnerDashboardSchema)
def partner_dashboard(partner_id):
    """One partner's dashboard, engineers' certifications and trainings included (another partner's: 404)."""
    return dashboard.partner_dashboard(api_user(), partner_id)


def _request(body) -> changes.ChangeRequest:
    return changes.ChangeRequest(body["kind"], body["new_date"], body.get("requirement_id"), body.get("active_on"),
                                 body.get("tier"), body.get("region"))


def _preview(preview: changes.Preview) -> dict:
    return {"kind": preview.request.kind, "digest": preview.digest, "rows": preview.rows}


@blp.route("/changes/preview", methods=["POST"], endpoint="preview_change")
@blp.operation("preview_status_change", refuses=(403, 422))
@blp.arguments(ChangeSchema, example={"kind": "extend_levels", "new_date": "2027-06-30", "tier": "PW"})
@blp.response(200, ChangePreviewSchema)
def preview_change(body):
    """Every partner a programme-wide change would reach, with the day before and after; nothing is written."""
    return _preview(changes.preview_change(api_user(), _request(body)))


@blp.route("/changes", methods=["POST"], endpoint="apply_change")
@blp.operation("apply_status_change", refuses=(403, 409, 422))
@blp.arguments(ChangeApplySchema, example={"kind": "push_deadline", "requirement_id": 3, "new_date": "2027-03-31",
                                           "reason": "Exam centres closed", "preview_digest": "0" * 64})
@blp.response(201, ChangeAppliedSchema)
def apply_change(body):
    """Apply a programme-wide change (programmes), audited; 409 when the preview is stale or nobody is reached."""
    change, preview = changes.apply_change(api_user(), _request(body), body["reason"], body.get("preview_digest"))
    return {**_preview(preview), "change_id": change.id}


@blp.route("/changes", methods=["GET"], endpoint="list_changes")
@blp.operation("list_status_changes", refuses=(403,))
@blp.response(200, ChangeRecordSchema(many=True))
def list_changes():
    """The programme-wide changes applied, newest first (programmes)."""
    return [{**change.__dict__, "created_by": name} for change, name in changes.list_changes(api_user())]


@blp.route("/exceptions", methods=["POST"], endpoint="grant_exception")
@blp.operation("create_partner_exception", refuses=(403, 409, 422))
@blp.arguments(ExceptionGrantSchema, example={"partner_id": 2, "requirement_id": 3, "until": "2027-03-31",
                                              "reason": "New engineers in training"})
@blp.response(201, ExceptionSchema)
def grant_exception(body):
    """Excuse one partner from one requirement until a day (programmes)."""
    return levels.grant_exception(api_user(), body["partner_id"], body["requirement_id"], body["until"],
                                  body["reason"])
