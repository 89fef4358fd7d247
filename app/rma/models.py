"""Returns of failed hardware (RMAs): an SR's products sent back under their own number."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db
from app.srs.models import ServiceRequest


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
