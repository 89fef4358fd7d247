"""/api/v1/programmes: rebate programmes, periods, targets, alleviations, sales, attainment, close."""
from __future__ import annotations

from flask import request

from app import access
from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.api_spec import file_upload
from app.bounds import UNSTORABLE, unstorable_text
from app.errors import InvalidInput, RuleViolation
from app.files.uploads import release_uploads
from app.programmes import attainment, closing, sales, services, targets
from app.programmes.schemas import (AlleviationApplySchema, AlleviationAppliedSchema, AlleviationPreviewSchema,
                                    AlleviationSchema, ApprovedSchema, AttainmentListSchema, AttainmentSchema,
                                    CloseSchema, PartnerTargetsSchema, PeriodCreateSchema, PeriodSchema,
                                    ProgrammeCreateSchema, ProgrammeSchema, SalesImportQuerySchema,
                                    SalesImportSchema, TargetSetSchema, TargetVersionSchema)

blp = Blueprint("programmes", __name__, url_prefix="/api/v1", description="Rebate programmes")
SALES_MAX_BYTES = 64 * 1024 * 1024
BASE = "/programmes/<int:programme_id>"
PERIOD = BASE + "/periods/<int:period_id>"


@blp.route("/programmes", methods=["POST"], endpoint="create_programme")
@blp.operation("create_programme", refuses=(403, 409))
@blp.arguments(ProgrammeCreateSchema, example={
    "name": "Growth Rebate", "currency": "USD", "baseline_target": 50000000,
    "tiers": [{"from_bp": 0, "rate_bp": 0}, {"from_bp": 8000, "rate_bp": 200}, {"from_bp": 10000, "rate_bp": 400}]})
@blp.response(201, ProgrammeSchema)
def create_programme(body):
    """Create a rebate programme with its baseline target and tiers (programmes)."""
    tiers = [(t["from_bp"], t["rate_bp"]) for t in body.get("tiers") or []] or None
    return services.create_programme(api_user(), body["name"], body["currency"], body["baseline_target"], tiers)


@blp.route("/programmes", methods=["GET"], endpoint="list_programmes")
@blp.operation("list_programmes", refuses=(403,))
@blp.response(200, ProgrammeSchema(many=True))
def list_programmes():
    """Rebate programmes with their periods and tiers (programmes and partners)."""
    return services.list_programmes(api_user())


@blp.route(BASE, methods=["GET"], endpoint="get_programme")
@blp.operation("get_programme", refuses=(403,))
@blp.response(200, ProgrammeSchema)
def get_programme(programme_id):
    """One rebate programme."""
    return services.get_programme(api_user(), programme_id)


@blp.route(BASE + "/periods", methods=["POST"], endpoint="add_period")
@blp.operation("add_programme_period", refuses=(403, 409))
@blp.arguments(PeriodCreateSchema, example={"label": "2026-Q4", "starts_on": "2026-10-01", "ends_on": "2026-12-31"})
@blp.response(201, PeriodSchema)
def add_period(body, programme_id):
    """Add a quarter; one overlapping another period of the programme is refused (409)."""
    return services.add_period(api_user(), programme_id, body["label"], body["starts_on"], body["ends_on"])


@blp.route(BASE + "/targets", methods=["PUT"], endpoint="set_target")
@blp.operation("set_partner_target", refuses=(403, 422))
@blp.arguments(TargetSetSchema, example={"partner_id": 2, "amount": 40000000, "effective_from": "2026-10-01"})
@blp.response(200, TargetVersionSchema)
def set_target(body, programme_id):
    """Set a partner's target from a date on (programmes); a date in a closed period is refused (422)."""
    return targets.set_target(api_user(), programme_id, body["partner_id"], body["amount"], body["effective_from"])


@blp.route(PERIOD + "/targets", methods=["GET"], endpoint="list_targets")
@blp.operation("list_partner_targets", refuses=(403,))
@blp.response(200, PartnerTargetsSchema)
def list_targets(programme_id, period_id):
    """Each partner's target and its history in a period (a partner: its own)."""
    period, rows = targets.partner_targets(api_user(), programme_id, period_id)
    return {"period": period, "items": rows}


@blp.route(BASE + "/alleviations/preview", methods=["POST"], endpoint="preview_alleviation")
@blp.operation("preview_alleviation", refuses=(403, 422))
@blp.arguments(AlleviationSchema, example={"effective_from": "2026-11-01", "reduction_bp": 1500, "tier": "PW"})
@blp.response(200, AlleviationPreviewSchema)
def preview_alleviation(body, programme_id):
    """Every partner an alleviation would reach, with old and new target; nothing is written."""
    preview = targets.preview_alleviation(api_user(), programme_id, **body)
    return _preview(preview)


@blp.route(BASE + "/alleviations", methods=["POST"], endpoint="apply_alleviation")
@blp.operation("apply_alleviation", refuses=(403, 409, 422))
@blp.arguments(AlleviationApplySchema, example={
    "effective_from": "2026-11-01", "reduction_bp": 1500, "tier": "PW",
    "reason": "Supply shortage of X465 switches", "preview_digest": "0" * 64})
@blp.response(201, AlleviationAppliedSchema)
def apply_alleviation(body, programme_id):
    """Lower targets from a date (programmes): audited, partners notified; a date in a closed period is 422."""
    alleviation, preview = targets.apply_alleviation(api_user(), programme_id, **body)
    return {**_preview(preview), "alleviation_id": alleviation.id}


def _preview(preview):
    return {"period": preview.period, "effective_from": preview.effective_from,
            "reduction_bp": preview.reduction_bp, "digest": preview.digest, "rows": preview.rows}


@blp.route("/programmes/sales", methods=["POST"], endpoint="import_sales")
@blp.operation("import_sales", refuses=(403, 422))
@blp.arguments(SalesImportQuerySchema, location="query")
@blp.response(200, SalesImportSchema)
@blp.doc(**file_upload("partners' bookings as CSV: partner,invoice_reference,date,product_family,amount,currency"))
def import_sales(args):
    """Import bookings (multipart field `file`) idempotently by invoice reference (programmes).

    Any bad line: 422 `bad_sales_lines` with every `file:line: reason` in `details.lines`
    and nothing written, unless `skip_bad=true`, which imports the good lines.
    """
    user = api_user()
    access.require(user, "sales.import")  # before reading anyone's upload
    request.max_content_length = SALES_MAX_BYTES
    try:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise InvalidInput("Send the bookings as multipart field `file`.", code="file_missing",
                               details={"fields": {"file": ["Missing."]}})
        if unstorable_text(upload.filename):
            raise InvalidInput("The file's name contains a NUL character or invalid Unicode.",
                               details={"fields": {"file": [UNSTORABLE]}})
        upload.stream.seek(0)
        report = sales.import_sales(user, sales.text_lines(upload.stream), upload.filename,
                                    dry_run=args["dry_run"], skip_bad=args["skip_bad"])
    finally:
        release_uploads()
    if report.bad_count and not args["skip_bad"]:
        raise RuleViolation(f"{report.bad_count} bad line(s); nothing was imported.", code="bad_sales_lines",
                            details={"lines": report.bad, "bad_count": report.bad_count})
    return report


@blp.route(PERIOD + "/attainment", methods=["GET"], endpoint="list_attainment")
@blp.operation("list_attainment", refuses=(403,))
@blp.response(200, AttainmentListSchema)
def list_attainment(programme_id, period_id):
    """Sales against target and projected rebate per partner (a partner: its own row)."""
    period, rows = attainment.list_attainment(api_user(), programme_id, period_id)
    return {"period": period, "items": rows}


@blp.route(PERIOD + "/partners/<int:partner_id>/attainment", methods=["GET"], endpoint="partner_attainment")
@blp.operation("get_partner_attainment", refuses=(403,))
@blp.response(200, AttainmentSchema)
def partner_attainment(programme_id, period_id, partner_id):
    """One partner's attainment, by segment of the target in force (another partner's: 404)."""
    return attainment.partner_attainment(api_user(), programme_id, period_id, partner_id)[1]


@blp.route(PERIOD + "/close", methods=["POST"], endpoint="close_period")
@blp.operation("close_programme_period", refuses=(403, 422))
@blp.response(200, CloseSchema)
def close_period(programme_id, period_id):
    """Close a period that is over: each partner's rebate becomes a submitted rebate claim. Again: no new claim."""
    period, settlements, closed_now = closing.close_period(api_user(), programme_id, period_id)
    return {"period": period, "closed_now": closed_now, "items": settlements}


@blp.route(PERIOD + "/approvals", methods=["POST"], endpoint="approve_period")
@blp.operation("approve_period_claims", refuses=(403, 409, 422))
@blp.response(200, ApprovedSchema)
def approve_period(programme_id, period_id):
    """Approve every submitted rebate claim of a closed period at once (programmes); payouts follow."""
    return {"claim_ids": [claim.id for claim in closing.approve_period(api_user(), programme_id, period_id)]}
