from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db


class OutboxEvent(db.Model):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set while the handler's effects run after its commit; another runner leaves the event alone until then.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # The request that caused the event (app/logs.py): its job logs under the same id.
    request_id: Mapped[str | None] = mapped_column(sa.String(128))

    # The relay scans only undelivered rows.
    __table_args__ = (
        sa.Index("ix_outbox_events_pending", "processed_at", "enqueued_at", "id"),
    )
