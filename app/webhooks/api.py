"""/api/v1/webhooks: a partner admin's endpoints for SR events, and their deliveries."""
from __future__ import annotations

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.webhooks import services as webhooks
from app.webhooks.schemas import DeliverySchema, NewWebhookSchema, WebhookInSchema, WebhookSchema

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks", description="Partner webhooks for SR events")


@blp.route("", methods=["POST"], endpoint="register")
@blp.operation("register_webhook", refuses=(403, 422))
@blp.arguments(WebhookInSchema, example={"url": "https://psa.northwind.example/hooks/gtac"})
@blp.response(201, NewWebhookSchema)
def register(body):
    """Register an endpoint; the answer carries its signing secret, shown only once."""
    webhook, secret = webhooks.register(api_user(), body["url"])
    return {"id": webhook.id, "url": webhook.url, "active": webhook.active, "created_at": webhook.created_at,
            "secret": secret}


@blp.route("", methods=["GET"], endpoint="list")
@blp.operation("list_webhooks", refuses=(403,))
@blp.response(200, WebhookSchema(many=True))
def list_webhooks():
    """The caller's partner's endpoints."""
    return webhooks.list_webhooks(api_user())


@blp.route("/<int:webhook_id>", methods=["DELETE"], endpoint="deactivate")
@blp.operation("deactivate_webhook", refuses=(403,))
@blp.response(200, WebhookSchema)
def deactivate(webhook_id):
    """Stop sending to this endpoint (its deliveries stay on record)."""
    return webhooks.deactivate(api_user(), webhook_id)


@blp.route("/<int:webhook_id>/deliveries", methods=["GET"], endpoint="deliveries")
@blp.operation("list_webhook_deliveries", refuses=(403,))
@blp.response(200, DeliverySchema(many=True))
def deliveries(webhook_id):
    """The latest deliveries to this endpoint, with attempts and outcome."""
    return webhooks.deliveries(api_user(), webhook_id)
