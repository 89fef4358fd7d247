"""Operational figures of the SRs for the metrics endpoint: open and breached now, per queue."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.srs.models import ServiceRequest as SR
from app.srs.queries import OPEN_STATUSES


def open_and_breached(session: Session, at: datetime) -> dict[str, tuple[int, int]]:
    """queue -> (open SRs, open SRs past their SLA due time)."""
    breached = sa.func.sum(sa.case((SR.sla_due_at <= at, 1), else_=0))
    rows = session.execute(sa.select(SR.queue, sa.func.count(), breached)
                           .where(SR.status.in_(OPEN_STATUSES)).group_by(SR.queue))
    return {queue: (count, int(late or 0)) for queue, count, late in rows}
