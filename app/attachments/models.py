"""Files attached to a case: stored under a generated name with their SHA-256."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db


class AttachmentKind(str, enum.Enum):
    ERROR_LOG = "error_log"
    CORE_FILE = "core_file"
    SUPPORT_BUNDLE = "support_bundle"
    CAPTURE = "capture"
    OTHER = "other"


class AttachmentVisibility(str, enum.Enum):
    """Who sees a file of a case they can see (the roles are in app.access.ATTACHMENT_READERS)."""

    CASE = "case"  # everyone on the case: the partner, its customer, and GTAC once escalated
    GTAC_THREAD = "gtac_thread"  # the partner<->GTAC thread of the SR: never the customer


# Kinds whose content is text worth scanning for versions and crash signatures.
SCANNABLE_KINDS = frozenset({AttachmentKind.ERROR_LOG, AttachmentKind.OTHER})


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(str_enum(AttachmentKind, "attachment_kind"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    storage_key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(127))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    findings: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    visibility: Mapped[AttachmentVisibility] = mapped_column(
        str_enum(AttachmentVisibility, "attachment_visibility"), default=AttachmentVisibility.CASE,
        server_default=AttachmentVisibility.CASE.value)

    uploaded_by: Mapped[User] = relationship(lazy="joined")

    @property
    def shows_crash(self) -> bool:
        return bool(self.findings and self.findings.get("crash_signatures"))
