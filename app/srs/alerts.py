"""SLA warnings and breaches: found in one set-based pass, recorded once, notified once per queue.

The pass is two INSERT ... SELECT statements over the stored due times, each
skipping alerts that already exist (unique sr, kind, due time). Two passes at
once, on two machines or one after the other, therefore record and notify each
alert once: the loser's insert of the same row does nothing.
"""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.clock import now
from app.uow import UnitOfWork, unit_of_work
from app.srs.models import ServiceRequest
from app.srs.models import AlertKind, SLAAlert

SR = ServiceRequest.__table__


def _insert(session: Session):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(
        SLAAlert.__table__)


def _target_column():
    return sa.case((sa.and_(SR.c.responded_at.is_(None), SR.c.response_due_at == SR.c.sla_due_at),
                    sa.literal("response")), else_=sa.literal("update"))


def record_alerts(session: Session, at: datetime, batch: str, sr_id: int | None = None) -> int:
    """Insert every alert now due (of one SR, or all) that is not recorded yet; returns how many."""
    columns = ["sr_id", "kind", "target", "due_at", "queue", "batch", "created_at"]
    for kind, condition in (
        (AlertKind.BREACH, SR.c.sla_due_at <= at),
        (AlertKind.WARNING, sa.and_(SR.c.sla_warn_at <= at, SR.c.sla_due_at > at)),
    ):
        source = sa.select(SR.c.id, sa.literal(kind.value), _target_column(), SR.c.sla_due_at, SR.c.queue,
                           sa.literal(batch), sa.literal(at, type_=SLAAlert.__table__.c.created_at.type)
                           ).where(condition)
        if sr_id is not None:
            source = source.where(SR.c.id == sr_id)
        statement = _insert(session).from_select(columns, source).on_conflict_do_nothing(
            index_elements=["sr_id", "kind", "due_at"])
        session.execute(statement)
    # Counted by batch: drivers disagree on the rowcount of INSERT ... SELECT ... ON CONFLICT.
    return session.scalar(sa.select(sa.func.count()).select_from(SLAAlert).where(SLAAlert.batch == batch))


def _announce(uow: UnitOfWork, batch: str) -> None:
    queues = uow.session.scalars(sa.select(SLAAlert.queue).where(SLAAlert.batch == batch).distinct())
    for queue in sorted(queues):
        uow.emit("notify.sr_sla_alerts", {"batch": batch, "queue": queue})


def scan(at: datetime | None = None) -> int:
    """The breach job: record and announce every warning and breach now due; returns how many are new."""
    at = at or now()
    batch = uuid.uuid4().hex
    with unit_of_work() as uow:
        inserted = record_alerts(uow.session, at, batch)
        if inserted:
            _announce(uow, batch)
        return inserted


def catch_up(uow: UnitOfWork, sr: ServiceRequest, at: datetime) -> None:
    """Before a change re-plans an SR, record the alerts its current plan owes, job or no job.

    Without this, a breach that a change ends before the next scan (a late response)
    would never be recorded, and "breaches today" would miss it.
    """
    batch = uuid.uuid4().hex
    if sr.sla_due_at is not None and sr.sla_warn_at is not None and sr.sla_warn_at <= at:
        uow.session.flush()
        if record_alerts(uow.session, at, batch, sr_id=sr.id):
            _announce(uow, batch)
