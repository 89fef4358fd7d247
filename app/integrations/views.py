"""The integrations page (vendor admin, programmes): register a claims platform (its secret shown
once), suspend or reactivate it, see the latest callbacks. The same services as /api/v1/integrations."""
from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import access
from app.errors import DomainError, Forbidden, NotFound
from app.integrations import services
from app.integrations.models import IntegrationStatus
from app.integrations.schemas import IntegrationInSchema

blp = Blueprint("integrations_web", __name__, template_folder="templates")
RECENT_CALLBACKS = 10


def _page(*, form: dict | None = None, errors: dict | None = None, created=None, secret: str | None = None,
          status: int = 200):
    integrations = services.list_integrations(current_user)
    recent = {i.id: services.recent_callbacks(current_user, i.id, limit=RECENT_CALLBACKS) for i in integrations}
    return render_template("integrations/integrations.html", integrations=integrations[::-1], recent=recent,
                           form=form or {}, errors=errors or {}, created=created, secret=secret), status


@blp.get("/integrations")
@login_required
def index():
    access.require(current_user, "integration.manage")
    return _page()


@blp.post("/integrations")
@login_required
def register():
    """A new claims platform; its signing secret is in this answer only."""
    access.require(current_user, "integration.manage")
    form = {"name": (request.form.get("name") or "").strip(),
            "callback_url": (request.form.get("callback_url") or "").strip()}
    try:
        body = IntegrationInSchema().load(form)
        created, secret = services.register(current_user, body["name"], body["callback_url"])
    except ma.ValidationError as exc:
        return _page(form=form, errors={k: " ".join(v) for k, v in exc.messages.items()}, status=400)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        field = "name" if exc.code == "integration_exists" else "callback_url"
        return _page(form=form, errors={field: exc.message}, status=exc.status)
    return _page(created=created, secret=secret, status=201)


@blp.post("/integrations/<int:integration_id>/suspension")
@login_required
def suspend(integration_id: int):
    integration = services.set_status(current_user, integration_id, IntegrationStatus.SUSPENDED)
    flash(f"{integration.name} suspended: its requests are refused.", "info")
    return redirect(url_for("integrations_web.index"), 303)


@blp.post("/integrations/<int:integration_id>/reactivation")
@login_required
def reactivate(integration_id: int):
    integration = services.set_status(current_user, integration_id, IntegrationStatus.ACTIVE)
    flash(f"{integration.name} reactivated: its requests are accepted again.", "info")
    return redirect(url_for("integrations_web.index"), 303)
