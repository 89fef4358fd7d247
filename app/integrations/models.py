"""Integrations, the claims they pushed, and the callbacks owed to them."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db


class IntegrationStatus(str, enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # its requests are refused; callbacks owed are still sent


class Integration(db.Model):
    """An external claims platform allowed to push approved claims, signing each request."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    # Where status callbacks go (checked like a partner's webhook URL).
    callback_url: Mapped[str] = mapped_column(sa.String(2000))
    # The shared signing secret, encrypted (services.seal): in clear only in the registration's answer.
    # Not a digest: verifying an HMAC takes the secret itself.
    secret_ciphertext: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[IntegrationStatus] = mapped_column(str_enum(IntegrationStatus, "integration_status"),
                                                      default=IntegrationStatus.ACTIVE)
    # Who registered it: pushed claims are filed and approved in that person's name.
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    created_by = relationship("User")


class PushedClaim(db.Model):
    """A claim an integration pushed, under the platform's own reference, kept for good: the
    reference is the idempotency key, and the partner's remittance advice quotes it."""

    __tablename__ = "integration_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    reference: Mapped[str] = mapped_column(sa.String(100))
    # SHA-256 of the canonical body: the same reference with another body is a conflict.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id"), unique=True)
    # The first answer, given again to a replay.
    response: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    integration: Mapped[Integration] = relationship()

    __table_args__ = (sa.UniqueConstraint("integration_id", "reference"),)


class CallbackStatus(str, enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last retry


class CallbackDelivery(db.Model):
    """One status change of one pushed claim, owed to its integration. (integration, event id) is
    unique: a status is announced under one event id however often it is handed over."""

    __tablename__ = "integration_callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    pushed_claim_id: Mapped[int] = mapped_column(sa.ForeignKey("integration_claims.id"), index=True)
    event_id: Mapped[str] = mapped_column(sa.String(64))
    topic: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[CallbackStatus] = mapped_column(str_enum(CallbackStatus, "integration_callback_status"),
                                                   default=CallbackStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    integration: Mapped[Integration] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("integration_id", "event_id"),
        sa.Index("ix_integration_callbacks_due", "status", "next_attempt_at"),
    )
