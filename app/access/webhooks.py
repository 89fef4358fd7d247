"""Partners' webhooks: a partner's admin manages its own organisation's, and sees no other's."""
from __future__ import annotations

import sqlalchemy as sa

from app.access.roles import PERMISSIONS
from app.accounts.models import PARTNER_ROLES, Role, User
from app.errors import NotFound
from app.extensions import db
from app.webhooks.models import Webhook

PERMISSIONS.update({
    "webhook.manage": frozenset({Role.PARTNER_ADMIN}),
})


def webhook_scope(user: User) -> sa.ColumnElement[bool]:
    """The rows of `partner_webhooks` this user can see at all."""
    if user.role in PARTNER_ROLES:
        return Webhook.partner_id == user.organisation_id
    return sa.false()


def visible_webhooks(user: User) -> sa.Select:
    return sa.select(Webhook).where(webhook_scope(user))


def get_webhook(user: User, webhook_id: int) -> Webhook:
    webhook = db.session.scalars(visible_webhooks(user).where(Webhook.id == webhook_id)).one_or_none()
    if webhook is None:
        raise NotFound(f"Webhook {webhook_id} not found.", code="webhook_not_found")
    return webhook
