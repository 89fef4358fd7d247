"""Tables of GTAC's work on SRs: the SR timeline, solutions, SLA alerts, management escalations,
RMAs and partners' webhooks. The SR itself is app.escalation.models.ServiceRequest."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import UTCDateTime, str_enum, utcnow
from app.escalation.models import ServiceRequest
from app.extensions import db
from app.srs.workflow import SolutionKind


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
    rma: Mapped[RMA | None] = relationship()


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


class RMAStatus(str, enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SHIPPED = "shipped"
    RECEIVED = "received"


# PostgreSQL numbers RMAs from this sequence; SQLite from RMANumberCounter.
RMA_NUMBER_SEQUENCE = "rma_number_seq"


class RMA(db.Model):
    """A return of up to five failed products of a hardware SR, with its own number."""

    __tablename__ = "rmas"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(11), unique=True)
    sr_id: Mapped[int] = mapped_column(sa.ForeignKey("service_requests.id"), index=True)
    status: Mapped[RMAStatus] = mapped_column(str_enum(RMAStatus, "rma_status"), default=RMAStatus.REQUESTED)
    ship_to: Mapped[str] = mapped_column(sa.Text)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    tracking: Mapped[str | None] = mapped_column(sa.String(100))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    service_request: Mapped[ServiceRequest] = relationship()
    items: Mapped[list[RMAItem]] = relationship(back_populates="rma", order_by="RMAItem.id")


class RMAItem(db.Model):
    __tablename__ = "rma_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id"))
    serial_number: Mapped[str] = mapped_column(sa.String(64))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    failure_description: Mapped[str] = mapped_column(sa.Text)

    rma: Mapped[RMA] = relationship(back_populates="items")

    __table_args__ = (sa.UniqueConstraint("rma_id", "serial_number"),)


class RMANumberCounter(db.Model):
    """SQLite's stand-in for the RMA number sequence."""

    __tablename__ = "rma_number_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger)


class Webhook(db.Model):
    """A partner's endpoint for SR events, signed with a secret shared with that partner."""

    __tablename__ = "partner_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    # The signing secret, encrypted (app.srs.webhooks.seal): in clear only in the registration's answer.
    secret_ciphertext: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last retry


class WebhookDelivery(db.Model):
    """One event for one webhook: its attempts and outcome. (webhook, event id) is unique."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_webhooks.id"))
    event_id: Mapped[str] = mapped_column(sa.String(64))
    topic: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, "webhook_delivery_status"),
                                                   default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    webhook: Mapped[Webhook] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("webhook_id", "event_id"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )
