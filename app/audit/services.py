"""Writing and reading the audit trail; always inside the caller's transaction."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.clock import now
from app.extensions import db
from app.uow import active


def record(actor, entity_type: str, entity_id, action: str,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Append one audit event to the current transaction; returns its row (columns by name).

    In a unit of work the row is written with the unit's other audit events at its commit
    (app.uow); outside one, it is added to the session. A change whose `after` repeats its
    `before` (the same answer saved again, a severity set to what it was) changed nothing:
    it is not recorded, and None is returned.
    """
    if before is not None and before == after:
        return None
    row = {"at": now(), "actor_id": getattr(actor, "id", None), "entity_type": entity_type,
           "entity_id": str(entity_id), "action": action, "before": before, "after": after}
    uow = active()
    if uow is not None:
        uow.insert_later(AuditEvent.__table__, row)
    else:
        db.session.add(AuditEvent(**row))
    return row


def trail(entity_type: str, entity_id) -> list[AuditEvent]:
    """Every event of one entity, oldest first. Callers check visibility of the entity first."""
    uow = active()
    if uow is not None:  # this unit's own events too
        uow.write_records()
    query = (sa.select(AuditEvent)
             .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
             .order_by(AuditEvent.id))
    return list(db.session.scalars(query))
