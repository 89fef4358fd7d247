"""A partner admin's webhooks page: register an endpoint (its secret shown once), see each one's
latest deliveries, deactivate one. The same services as /api/v1/webhooks."""
from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import DomainError, Forbidden, NotFound
from app.webhooks import services as webhooks
from app.webhooks.schemas import WebhookInSchema

blp = Blueprint("webhooks_web", __name__, template_folder="templates")
RECENT_DELIVERIES = 10


def _page(*, url: str = "", error: str | None = None, secret: str | None = None, status: int = 200):
    hooks = webhooks.list_webhooks(current_user)
    recent = {hook.id: webhooks.deliveries(current_user, hook.id, limit=RECENT_DELIVERIES) for hook in hooks}
    return render_template("webhooks/webhooks.html", webhooks=hooks[::-1], recent=recent, url=url, error=error,
                           secret=secret), status


@blp.get("/webhooks")
@login_required
def index():
    return _page()


@blp.post("/webhooks")
@login_required
def register():
    """A new endpoint; its signing secret is in this answer only."""
    url = (request.form.get("url") or "").strip()
    try:
        body = WebhookInSchema().load({"url": url})
        _, secret = webhooks.register(current_user, body["url"])
    except ma.ValidationError as exc:
        return _page(url=url, error=" ".join(exc.messages.get("url", ["Not a valid URL."])), status=400)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        return _page(url=url, error=exc.message, status=exc.status)
    return _page(secret=secret, status=201)


@blp.post("/webhooks/<int:webhook_id>/deactivation")
@login_required
def deactivate(webhook_id: int):
    hook = webhooks.deactivate(current_user, webhook_id)
    flash(f"Webhook {hook.url} deactivated: no more events are sent to it.", "info")
    return redirect(url_for("webhooks_web.index"), 303)
