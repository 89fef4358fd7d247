"""The GTAC manager's dashboard: open SRs per queue and severity, ages, breaches, 30 days of flow."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import access
from app.accounts.models import User
from app.clock import now
from app.uow import unit_of_work
from app.srs.models import ServiceRequest, SRStatus
from app.srs.models import AlertKind, HistoryKind, SLAAlert, SRHistory
from app.srs.queries import OPEN_STATUSES

SR = ServiceRequest
SEVERITIES = ("S1", "S2", "S3", "S4")
CHART_DAYS = 30


@dataclass
class QueueRow:
    queue: str
    by_severity: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    oldest: datetime | None = None
    breached_now: int = 0
    breaches_today: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())


@dataclass
class Dashboard:
    at: datetime
    queues: list[QueueRow]
    management_levels: dict[int, int]
    days: list[date]
    inflow: list[int]
    closures: list[int]

    @property
    def totals(self) -> QueueRow:
        total = QueueRow("All queues")
        for row in self.queues:
            for severity, count in row.by_severity.items():
                total.by_severity[severity] += count
            total.breached_now += row.breached_now
            total.breaches_today += row.breaches_today
            if row.oldest and (total.oldest is None or row.oldest < total.oldest):
                total.oldest = row.oldest
        return total


def _day(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.date(sa.func.timezone(sa.literal_column("'UTC'"), column))
    return sa.func.date(column)


def dashboard(actor: User) -> Dashboard:
    """Figures as of now; breaches count from recorded alerts and, job or no job, from due times."""
    access.require(actor, "sr.dashboard")
    at = now()
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    with unit_of_work() as uow:
        rows: dict[str, QueueRow] = {}

        def row(queue: str) -> QueueRow:
            return rows.setdefault(queue, QueueRow(queue))

        for queue, severity, count, oldest in uow.session.execute(
                sa.select(SR.queue, SR.severity, sa.func.count(), sa.func.min(SR.created_at))
                .where(SR.status.in_(OPEN_STATUSES)).group_by(SR.queue, SR.severity)):
            entry = row(queue)
            entry.by_severity[severity.value] = count
            if oldest is not None and (entry.oldest is None or oldest < entry.oldest):
                entry.oldest = oldest
        for queue, count in uow.session.execute(sa.select(SR.queue, sa.func.count()).where(SR.sla_due_at <= at)
                                            .group_by(SR.queue)):
            row(queue).breached_now = count
        recorded = (sa.select(SLAAlert.queue, sa.func.count(sa.distinct(SLAAlert.sr_id)))
                    .where(SLAAlert.kind == AlertKind.BREACH, SLAAlert.due_at >= midnight, SLAAlert.due_at <= at)
                    .group_by(SLAAlert.queue))
        for queue, count in uow.session.execute(recorded):
            row(queue).breaches_today += count
        unrecorded = (sa.select(SR.queue, sa.func.count())
                      .where(SR.sla_due_at >= midnight, SR.sla_due_at <= at,
                             ~sa.exists().where(SLAAlert.sr_id == SR.id, SLAAlert.kind == AlertKind.BREACH,
                                                SLAAlert.due_at == SR.sla_due_at))
                      .group_by(SR.queue))
        for queue, count in uow.session.execute(unrecorded):
            row(queue).breaches_today += count
        levels = dict(uow.session.execute(
            sa.select(SR.management_level, sa.func.count())
            .where(SR.status.in_(OPEN_STATUSES), SR.management_level > 0).group_by(SR.management_level)).all())

        first_day = (midnight - timedelta(days=CHART_DAYS - 1)).date()
        days = [first_day + timedelta(days=n) for n in range(CHART_DAYS)]
        since = midnight - timedelta(days=CHART_DAYS - 1)
        inflow = _per_day(uow.session, sa.select(_day(uow.session, SR.created_at), sa.func.count())
                          .where(SR.created_at >= since).group_by(_day(uow.session, SR.created_at)), days)
        closed_day = _day(uow.session, SRHistory.at)
        closures = _per_day(uow.session, sa.select(closed_day, sa.func.count())
                            .where(SRHistory.kind == HistoryKind.STATUS, SRHistory.to_status == SRStatus.CLOSED.value,
                                   SRHistory.at >= since).group_by(closed_day), days)
        return Dashboard(at, sorted(rows.values(), key=lambda r: r.queue), levels, days, inflow, closures)


def _per_day(session: Session, query, days: list[date]) -> list[int]:
    counts = {}
    for day, count in session.execute(query):
        counts[day if isinstance(day, date) else date.fromisoformat(str(day))] = count
    return [counts.get(day, 0) for day in days]
