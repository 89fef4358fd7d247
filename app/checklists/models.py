"""A case's responses to the items of its pinned checklist version."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import UTCDateTime, utcnow
from app.extensions import db


class ChecklistResponse(db.Model):
    __tablename__ = "checklist_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    item_code: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[Any | None] = mapped_column(sa.JSON)
    not_applicable: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    responded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    responded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    responded_by: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("case_id", "item_code"),)
