"""Service requests (SRs) at GTAC and their work: the timeline, solutions, SLA alerts, management escalations."""
from __future__ import annotations

import enum
import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.cases.models import Case, Severity
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db
from app.srs.workflow import SolutionKind

if TYPE_CHECKING:
    from app.rma.models import RMA  # mapped by name: an RMA belongs to an SR, not the other way round


class SRStatus(str, enum.Enum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    AWAITING_PARTNER = "awaiting_partner"
    SOLUTION_PROVIDED = "solution_provided"
    CLOSED = "closed"


# SRs GTAC still works on (the clocks run or wait for the partner), as SQL for partial indexes.
OPEN_SQL = "('new', 'assigned', 'in_progress', 'awaiting_partner')"

# PostgreSQL numbers SRs from this sequence (created by the migrations); SQLite from SRNumberCounter.
SR_NUMBER_SEQUENCE = "sr_number_seq"


class ServiceRequest(db.Model):
    __tablename__ = "service_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(10), unique=True)
    # One SR per case, whatever the retries: the last line of defence under concurrency.
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), unique=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    status: Mapped[SRStatus] = mapped_column(str_enum(SRStatus, "sr_status"), default=SRStatus.NEW)
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "sr_severity"))
    queue: Mapped[str] = mapped_column(sa.String(64))
    product_family: Mapped[str] = mapped_column(sa.String(32))
    region: Mapped[str | None] = mapped_column(sa.String(16))
    escalated_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    update_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # GTAC's work on the SR (app/srs): who has it, and the moments its clocks depend on.
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    solution_provided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopen_count: Mapped[int] = mapped_column(default=0, server_default="0")
    management_level: Mapped[int] = mapped_column(default=0, server_default="0")
    # The earliest pending SLA due time and its near-breach point; NULL while no clock runs
    # (awaiting the partner, solution provided, closed). Re-planned on every change, so that
    # "breached" is `sla_due_at <= now` in SQL, right whether or not the breach job has run.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The id of its newest timeline entry, read only when a query asks (with_newest_entry), in the same
    # statement as the SR's row: a page drawn from that row tells its live stream to replay what came after.
    newest_entry_id: Mapped[int | None] = sa.orm.query_expression()

    case: Mapped[Case] = relationship(backref=sa.orm.backref("service_request", uselist=False))
    escalated_by: Mapped[User] = relationship(foreign_keys=[escalated_by_id], lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    __table_args__ = (
        sa.Index("ix_service_requests_queue_page", "queue", "status", "id"),
        sa.Index("ix_service_requests_partner_page", "partner_id", "id"),
        # GTAC's queue pages: open SRs of a queue, most urgent first (paused ones, NULL, last).
        sa.Index("ix_service_requests_queue_urgency", "queue", "sla_due_at", "id",
                 postgresql_where=sa.text(f"status IN {OPEN_SQL}"), sqlite_where=sa.text(f"status IN {OPEN_SQL}")),
        # Every queue at once, the breached filter and the breach job.
        sa.Index("ix_service_requests_due", "sla_due_at", "id",
                 postgresql_where=sa.text("sla_due_at IS NOT NULL"), sqlite_where=sa.text("sla_due_at IS NOT NULL")),
        sa.Index("ix_service_requests_warn", "sla_warn_at",
                 postgresql_where=sa.text("sla_warn_at IS NOT NULL"), sqlite_where=sa.text("sla_warn_at IS NOT NULL")),
        sa.Index("ix_service_requests_assignee", "assignee_id", "sla_due_at"),
    )


class SRNumberCounter(db.Model):
    """SQLite's stand-in for a sequence: one row, bumped inside the escalating transaction."""

    __tablename__ = "sr_number_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger)


class HistoryKind(str, enum.Enum):
    OPENED = "opened"
    STATUS = "status"
    ASSIGNMENT = "assignment"
    SEVERITY = "severity"
    MESSAGE = "message"
    MANAGEMENT_ESCALATION = "management_escalation"
    RMA = "rma"
    ATTACHMENT = "attachment"  # a file added to the SR's thread


class SRHistory(db.Model):
    """The SR's timeline, append-only: what its clocks are planned from and what its event stream replays."""

    __tablename__ = "sr_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    sr_id: Mapped[int] = mapped_column(sa.ForeignKey("service_requests.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[HistoryKind] = mapped_column(str_enum(HistoryKind, "sr_history_kind"))
    move: Mapped[str | None] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str | None] = mapped_column(sa.String(32))
    note: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (sa.Index("ix_sr_history_timeline", "sr_id", "id"),)


_NEWEST_ENTRY = sa.select(sa.func.max(SRHistory.id)).where(SRHistory.sr_id == ServiceRequest.id).scalar_subquery()


@functools.cache  # options are immutable: built once
def with_newest_entry() -> sa.orm.interfaces.LoaderOption:
    """The loader option of an SR query that reads its newest_entry_id in the same statement."""
    return sa.orm.with_expression(ServiceRequest.newest_entry_id, _NEWEST_ENTRY)


@functools.cache  # at first use: the backref exists only then
def case_sr_with_newest_entry() -> sa.orm.interfaces.LoaderOption:
    """The loader option of a case query for a page with live SR sections: the case's SR joined, its
    newest_entry_id read in the same statement."""
    return sa.orm.joinedload(Case.service_request).with_expression(ServiceRequest.newest_entry_id, _NEWEST_ENTRY)


class SRSolution(db.Model):
    """A solution GTAC provided: a fix, a patch, a workaround or an RMA."""

    __tablename__ = "sr_solutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sr_id: Mapped[int] = mapped_column(sa.ForeignKey("service_requests.id"), index=True)
    kind: Mapped[SolutionKind] = mapped_column(str_enum(SolutionKind, "sr_solution_kind"))
    content: Mapped[str] = mapped_column(sa.Text)
    rma_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rmas.id"))
    provided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    provided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    provided_by: Mapped[User] = relationship(lazy="joined")
    rma: Mapped[RMA | None] = relationship("RMA")


class AlertKind(str, enum.Enum):
    WARNING = "warning"  # near the breach
    BREACH = "breach"


class SLAAlert(db.Model):
    """One SLA warning or breach of one due time, notified once.

    The unique (sr, kind, due time) is what makes two breach jobs running at once,
    or one running twice, notify once: the second insert of the same alert is a no-op.
    """

    __tablename__ = "sr_sla_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sr_id: Mapped[int] = mapped_column(sa.ForeignKey("service_requests.id"))
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind, "sr_alert_kind"))
    target: Mapped[str] = mapped_column(sa.String(16))  # response | update
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queue: Mapped[str] = mapped_column(sa.String(64))
    batch: Mapped[str] = mapped_column(sa.String(32))  # the scan (or change) that raised it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("sr_id", "kind", "due_at"),
        sa.Index("ix_sr_sla_alerts_batch", "batch", "queue"),
        sa.Index("ix_sr_sla_alerts_due", "kind", "due_at"),
    )


class ManagementEscalation(db.Model):
    """A partner's request to raise an SR to the attention of GTAC management (levels 1 to 3)."""

    __tablename__ = "sr_management_escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    sr_id: Mapped[int] = mapped_column(sa.ForeignKey("service_requests.id"))
    level: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.Text)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    requested_by: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("sr_id", "level"),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),
    )
