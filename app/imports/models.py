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
    # How many times a worker has started applying it. Each start takes the next number and owns the
    # run while it is still RUNNING under that number: a worker taken for dead and found slow later
    # sees another number there and writes nothing.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # The applying worker's last sign of life: when it started, then each batch it read (beside the
    # import's transaction, where the database allows it: see services._progress_writer). Past
    # IMPORT_STALLED_AFTER the run is taken for abandoned and started again.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why it failed, in words for its page (None: a failure with nothing more to say than that).
    failure: Mapped[str | None] = mapped_column(sa.Text)

    created_by: Mapped[User] = relationship()  # not joined: a run is read FOR UPDATE, alone

    @property
    def restarts(self) -> int:
        """How many times the worker applying it stopped before the end and it was queued again."""
        if self.status == ImportStatus.QUEUED:
            return self.attempts
        return max(0, self.attempts - 1)

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.APPLIED or not self.size:
            return 100
        return min(100, self.processed_bytes * 100 // self.size)
