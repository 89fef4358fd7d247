"""/api/v1/rmas and an SR's RMAs: the partner requests, GTAC decides and ships, either side receives."""
from __future__ import annotations

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.rma import services as rma
from app.rma.schemas import RMARequestSchema, RMASchema, RMATransitionSchema

blp = Blueprint("rmas", __name__, url_prefix="/api/v1", description="RMAs of hardware SRs")


@blp.route("/srs/<sr_number>/rmas", methods=["POST"], endpoint="request")
@blp.operation("request_rma", refuses=(403, 409, 422))
@blp.arguments(RMARequestSchema, example={
    "ship_to": "Acme Corp, Dock 4, 1 Main Street, Springfield, +1 555 0100",
    "items": [{"serial_number": "ACME-0003", "failure_description": "Port 1:49 fails link negotiation repeatedly."}]})
@blp.response(201, RMASchema)
def request_rma(body, sr_number):
    """Request an RMA for up to 5 products; serials outside the customer's contract are refused (422),
    and so are serials on an RMA of this SR still under way (409)."""
    return rma.request_rma(api_user(), sr_number, body["ship_to"], body["items"])


@blp.route("/rmas/<rma_number>", methods=["GET"], endpoint="get")
@blp.operation("get_rma")
@blp.response(200, RMASchema)
def get_rma(rma_number):
    """One RMA with its products and status."""
    return rma.get_rma(api_user(), rma_number)


@blp.route("/rmas/<rma_number>/transitions", methods=["POST"], endpoint="transition")
@blp.operation("transition_rma", refuses=(403, 409, 422))
@blp.arguments(RMATransitionSchema, example={"to": "shipped", "tracking": "1Z999AA10123456784"})
@blp.response(200, RMASchema)
def move_rma(body, rma_number):
    """GTAC approves, rejects or ships (with tracking); the partner or GTAC confirms receipt."""
    return rma.move_rma(api_user(), rma_number, body["to"], body.get("note"), body.get("tracking"))
