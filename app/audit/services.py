"""Writing and reading the audit trail; always inside the caller's transaction."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db


def record(actor, entity_type: str, entity_id, action: str,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEvent | None:
    """Append one audit event to the current transaction.

    A change whose `after` repeats its `before` (the same answer saved again, a severity
    set to what it was) changed nothing: it is not recorded, and None is returned.
    """
    if before is not None and before == after:
        return None
    audit_event = AuditEvent(
        actor_id=getattr(actor, "id", None), entity_type=entity_type, entity_id=str(entity_id),
        action=action, before=before, after=after,
    )
    db.session.add(audit_event)
    return audit_event


def trail(entity_type: str, entity_id) -> list[AuditEvent]:
    """Every event of one entity, oldest first. Callers check visibility of the entity first."""
    query = (sa.select(AuditEvent)
             .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
             .order_by(AuditEvent.id))
    return list(db.session.scalars(query))
