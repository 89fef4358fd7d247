"""/api/v1/integrations: the vendor registers claims platforms; a platform pushes approved claims.

The push is authenticated by the integration's signature, not a person's token
(it is one of accounts.api_auth.PUBLIC_ENDPOINTS for that reason), checked over
the raw body before the body is parsed or anything is written.
"""
from __future__ import annotations

from functools import wraps

from flask import g, request

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.integrations import services
from app.integrations.models import IntegrationStatus
from app.integrations.schemas import (CallbackSchema, ClaimPushSchema, ClaimPushedSchema, IntegrationInSchema,
                                      IntegrationSchema, NewIntegrationSchema)

blp = Blueprint("integrations", __name__, url_prefix="/api/v1/integrations",
                description="The programme platform's claims integration")


def signed(view):
    @wraps(view)
    def checked(*args, **kwargs):
        g.integration_id = services.authenticate(request.headers, request.get_data(cache=True))
        return view(*args, **kwargs)
    return checked


@blp.route("", methods=["POST"], endpoint="register")
@blp.operation("register_integration", refuses=(403, 409, 422))
@blp.arguments(IntegrationInSchema, example={"name": "Partner programme platform",
                                             "callback_url": "https://programmes.vendor.example/gtac/callbacks"})
@blp.response(201, NewIntegrationSchema)
def register(body):
    """Register a claims platform (vendor admin, programmes); the answer carries its signing secret, once."""
    integration, secret = services.register(api_user(), body["name"], body["callback_url"])
    return {"id": integration.id, "name": integration.name, "callback_url": integration.callback_url,
            "status": integration.status, "created_at": integration.created_at, "secret": secret}


@blp.route("", methods=["GET"], endpoint="list")
@blp.operation("list_integrations", refuses=(403,))
@blp.response(200, IntegrationSchema(many=True))
def list_integrations():
    """The registered claims platforms."""
    return services.list_integrations(api_user())


@blp.route("/<int:integration_id>/suspension", methods=["POST"], endpoint="suspend")
@blp.operation("suspend_integration", refuses=(403,))
@blp.response(200, IntegrationSchema)
def suspend(integration_id):
    """Refuse the platform's requests from now on (callbacks owed are still sent)."""
    return services.set_status(api_user(), integration_id, IntegrationStatus.SUSPENDED)


@blp.route("/<int:integration_id>/reactivation", methods=["POST"], endpoint="reactivate")
@blp.operation("reactivate_integration", refuses=(403,))
@blp.response(200, IntegrationSchema)
def reactivate(integration_id):
    """Accept the platform's requests again."""
    return services.set_status(api_user(), integration_id, IntegrationStatus.ACTIVE)


@blp.route("/<int:integration_id>/callbacks", methods=["GET"], endpoint="callbacks")
@blp.operation("list_integration_callbacks", refuses=(403,))
@blp.response(200, CallbackSchema(many=True))
def callbacks(integration_id):
    """The latest status callbacks to the platform, with attempts and outcome."""
    return services.recent_callbacks(api_user(), integration_id, limit=100)


@blp.route("/claims", methods=["POST"], endpoint="push_claim")
@blp.operation("submit_approved_claim", refuses=(403, 409, 422))
@signed
@blp.arguments(ClaimPushSchema, example={
    "reference": "CLM-2026-000123", "partner_id": 2, "type": "rebate", "amount": 125000, "currency": "USD",
    "period": "2026-Q3", "description": "Growth Rebate Q3, approved by the programme platform"})
@blp.response(201, ClaimPushedSchema)
@blp.doc(security=[], parameters=[
    {"in": "header", "name": services.ID_HEADER, "required": True, "schema": {"type": "string"},
     "description": "the integration's id"},
    {"in": "header", "name": services.SIGNATURE_HEADER, "required": True, "schema": {"type": "string"},
     "description": 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the integration\'s secret>'}])
def push_claim(body):
    """Pay a claim the programme platform approved (machine only: signed by the integration).

    `reference` is the idempotency key: the same reference with the same body answers
    as the first time (201, header Idempotent-Replayed: true); with another body it is
    409 `reference_reused`. A claim for an unknown or suspended partner is 422 with the
    reason, and nothing is written.
    """
    answer, created = services.push_claim(g.integration_id, body)
    return answer, 201, ({} if created else {"Idempotent-Replayed": "true"})
