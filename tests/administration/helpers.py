"""Finding the demo's organisations and products by name, and reading the audit trail they leave."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Organisation
from app.audit.models import AuditEvent
from app.contracts.models import Product
from app.extensions import db


def org_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalars(sa.select(Organisation.id).filter_by(name=name)).one()


def product_id(app, model: str) -> int:
    with app.app_context():
        return db.session.scalars(sa.select(Product.id).filter_by(model=model)).one()


def audit_actions(app, entity_type: str, entity_id) -> list[tuple[str, str | None]]:
    """(action, actor e-mail) of every audit event of one entity, oldest first."""
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id)).order_by(AuditEvent.id))
        return [(event.action, event.actor.email if event.actor else None) for event in events]
