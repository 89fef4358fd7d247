"""One import of a file: what its preview found, and how far applying it has come."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db


class ImportStatus(str, enum.Enum):
    PREVIEWED = "previewed"  # checked, nothing written: waiting to be applied or dropped
    QUEUED = "queued"
    RUNNING = "running"
    APPLIED = "applied"
    REFUSED = "refused"  # bad lines and no --skip-bad when applied: nothing written
    FAILED = "failed"


class ImportRun(db.Model):
    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    filename: Mapped[str] = mapped_column(sa.String(255))
    # The uploaded file in the attachment storage, until the import is applied.
    storage_key: Mapped[str | None] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    skip_bad: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ImportStatus] = mapped_column(str_enum(ImportStatus, "import_status"))
    processed_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    added: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    # The first bad lines as `file:line: reason` (refused counts them all).
    errors: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User] = relationship()  # not joined: a run is read FOR UPDATE, alone

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.APPLIED or not self.size:
            return 100
        return min(100, self.processed_bytes * 100 // self.size)
