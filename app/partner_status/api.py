"""/api/v1/partner-status: levels, partners' levels, trainings and specialisations, the Partner
Performance & Training Dashboard, programme-wide changes."""
from __future__ import annotations

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.partner_status import changes, dashboard, levels
from app.partner_status.schemas import (ChangeAppliedSchema, ChangeApplySchema, ChangePreviewSchema,
                                        ChangeRecordSchema, ChangeSchema, ExceptionGrantSchema, ExceptionSchema,
                                        LevelCreateSchema, LevelSchema, PartnerDashboardSchema,
                                        PartnerListQuerySchema, PartnerListSchema, PartnerStatusSchema,
                                        RequirementInSchema, RequirementSchema, SpecialisationCreateSchema,
                                        SpecialisationRecordSchema, StatusSetSchema, TrainingCreateSchema,
                                        TrainingRecordSchema)

blp = Blueprint("partner_status", __name__, url_prefix="/api/v1/partner-status",
                description="Partner status, training and specialisations")


@blp.route("/levels", methods=["GET"], endpoint="list_levels")
@blp.operation("list_partner_levels", refuses=(403,))
@blp.response(200, LevelSchema(many=True))
def list_levels():
    """The partner levels, lowest first, each with its requirements and their deadlines."""
    return dashboard.levels(api_user())


def _requirement(body) -> levels.RequirementIn:
    return levels.RequirementIn.of((body["code"], body["kind"], body["subject"], body["minimum"], body["deadline"]))


@blp.route("/levels", methods=["POST"], endpoint="create_level")
@blp.operation("create_partner_level", refuses=(403, 409, 422))
@blp.arguments(LevelCreateSchema, example={"name": "Gold", "rank": 4, "requirements": [
    {"code": "CERT-EXOS", "kind": "certified_engineers", "subject": "EXOS", "minimum": 3,
     "deadline": "2027-06-30"}]})
@blp.response(201, LevelSchema)
def create_level(body):
    """Define a level and its requirements (programmes): a name or rank taken is 409, a product family
    no product has or a deadline already past is 422."""
    return levels.create_level(api_user(), body["name"], body["rank"],
                               [_requirement(r) for r in body["requirements"]])


@blp.route("/levels/<int:level_id>/requirements", methods=["POST"], endpoint="add_requirement")
@blp.operation("create_level_requirement", refuses=(403, 409, 422))
@blp.arguments(RequirementInSchema, example={"code": "TRN-SALES", "kind": "training",
                                             "subject": "Partner Sales Foundations", "minimum": 2,
                                             "deadline": "2027-03-31"})
@blp.response(201, RequirementSchema)
def add_requirement(body, level_id):
    """One more requirement of a level (programmes); a code the level has already is 409."""
    return levels.add_requirement(api_user(), level_id, _requirement(body))


@blp.route("/partners/<int:partner_id>/status", methods=["PUT"], endpoint="set_status")
@blp.operation("set_partner_level", refuses=(403, 422))
@blp.arguments(StatusSetSchema, example={"level_id": 2, "valid_through": "2027-12-31",
                                         "next_review_on": "2027-09-30"})
@blp.response(200, PartnerStatusSchema)
def set_status(body, partner_id):
    """Put a partner at a level through a day, with its next levelling review (programmes), audited."""
    return levels.set_status(api_user(), partner_id, body["level_id"], body["valid_through"],
                             body["next_review_on"])


@blp.route("/trainings", methods=["POST"], endpoint="record_training")
@blp.operation("create_training_completion", refuses=(403, 409, 422))
@blp.arguments(TrainingCreateSchema, example={"user_id": 5, "course": "Fabric Connect Essentials",
                                              "completed_on": "2026-11-20"})
@blp.response(201, TrainingRecordSchema)
def record_training(body):
    """A partner's engineer completed a course (programmes); the same course again is 409."""
    return levels.record_training(api_user(), body["user_id"], body["course"], body["completed_on"])


@blp.route("/specialisations", methods=["POST"], endpoint="add_specialisation")
@blp.operation("create_partner_specialisation", refuses=(403, 409, 422))
@blp.arguments(SpecialisationCreateSchema, example={"partner_id": 2, "name": "Wireless",
                                                    "starts_on": "2026-12-01", "ends_on": "2027-11-30"})
@blp.response(201, SpecialisationRecordSchema)
def add_specialisation(body):
    """A specialisation a partner holds between two days (programmes); the same one on overlapping
    days is 409."""
    return levels.add_specialisation(api_user(), body["partner_id"], body["name"], body["starts_on"],
                                     body["ends_on"])


@blp.route("/partners", methods=["GET"], endpoint="list_partners")
@blp.operation("list_partner_status", refuses=(403,))
@blp.arguments(PartnerListQuerySchema, location="query")
@blp.response(200, PartnerListSchema)
def list_partners(args):
    """Every partner's level, review, requirements and rebate attainment (a partner: its own row),
    filtered by tier, region, level or a requirement not met; by name, a page at a time."""
    page = dashboard.dashboards_page(api_user(), **args)
    return {"items": page.items, "next_cursor": page.next_cursor}


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
@blp.operation("preview_status_change", refuses=(403, 409, 422))
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
