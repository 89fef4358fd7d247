"""Service requests (SRs) opened at GTAC by escalation, and idempotency records."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.cases.models import Case, Severity
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db


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


class IdempotencyRecord(db.Model):
    """The first successful answer to a request sent with an Idempotency-Key."""

    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(sa.String(255))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)
