"""Support cases and their three-channel message thread."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organisation, User
from app.contracts.models import Product
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db


class Severity(str, enum.Enum):
    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    S4 = "S4"


class CaseStatus(str, enum.Enum):
    OPEN = "open"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Channel(str, enum.Enum):
    INTERNAL = "internal"  # partner only
    CUSTOMER = "customer"  # partner <-> customer
    GTAC = "gtac"  # partner <-> GTAC, open once escalated


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    opened_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    serial_number: Mapped[str] = mapped_column(sa.String(64))
    software_version: Mapped[str] = mapped_column(sa.String(64))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "case_severity"))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"),
                                               default=CaseStatus.OPEN)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    hardware_issue: Mapped[bool] = mapped_column(default=False)
    crash_reported: Mapped[bool] = mapped_column(default=False)
    # The checklist version in force when the case was opened; only `flask checklist migrate` moves it.
    checklist_name: Mapped[str] = mapped_column(sa.String(64))
    checklist_version: Mapped[int]
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    partner: Mapped[Organisation] = relationship(foreign_keys=[partner_id])
    customer: Mapped[Organisation] = relationship(foreign_keys=[customer_id], lazy="joined")
    opened_by: Mapped[User] = relationship()
    product: Mapped[Product] = relationship(lazy="joined")

    # Keyset pages walk (tenant, id) backwards; these indexes keep a page O(limit) at any depth.
    __table_args__ = (
        sa.Index("ix_cases_partner_page", "partner_id", "id"),
        sa.Index("ix_cases_customer_page", "customer_id", "id"),
        sa.Index("ix_cases_partner_status_page", "partner_id", "status", "id"),
        sa.Index("ix_cases_escalated_page", "escalated_at", "id"),
        sa.Index("ix_cases_serial_number", "serial_number"),
    )


class Message(db.Model):
    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "message_channel"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (sa.Index("ix_case_messages_thread", "case_id", "channel", "id"),)
