"""Release notes (releases, known anomalies, what each release says of them) and rulings."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db


class AnomalySeverity(str, enum.Enum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    COSMETIC = "cosmetic"


class EntrySection(str, enum.Enum):
    KNOWN = "known"  # open in the release
    FIXED = "fixed"  # fixed by the release


class RulingKind(str, enum.Enum):
    MATCHES = "matches"
    NOT_RELEVANT = "not_relevant"


class FixAction(str, enum.Enum):
    UPGRADE = "upgrade"
    WORKAROUND = "workaround"


class AnomalyCatalogue(db.Model):
    """One product family's release notes as a whole; `revision` changes with every import that changes them.

    Ranking indexes are cached per process and rebuilt when the revision they
    were built from is no longer the current one.
    """

    __tablename__ = "triage_catalogues"

    product_family: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    revision: Mapped[str] = mapped_column(sa.String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Release(db.Model):
    __tablename__ = "triage_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_family: Mapped[str] = mapped_column(sa.String(32))
    version: Mapped[str] = mapped_column(sa.String(64))
    released_on: Mapped[date | None] = mapped_column(sa.Date)
    summary: Mapped[str | None] = mapped_column(sa.Text)
    source_digest: Mapped[str] = mapped_column(sa.String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("product_family", "version"),)


class KnownAnomaly(db.Model):
    """An anomaly as all imported release notes together describe it.

    `affected` holds range expressions and `fixed_in` version strings (see
    app/triage/versions.py); both are the union over every release's entry.
    An anomaly no release lists any more stays (rulings may point at it) but
    is no longer `listed`, so triage ignores it.
    """

    __tablename__ = "triage_anomalies"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_family: Mapped[str] = mapped_column(sa.String(32))
    code: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text)
    workaround: Mapped[str | None] = mapped_column(sa.Text)
    severity: Mapped[AnomalySeverity | None] = mapped_column(str_enum(AnomalySeverity, "anomaly_severity"))
    affected: Mapped[list] = mapped_column(sa.JSON)
    fixed_in: Mapped[list] = mapped_column(sa.JSON)
    signatures: Mapped[list] = mapped_column(sa.JSON)
    listed: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("product_family", "code"),)


class ReleaseEntry(db.Model):
    """What one release's notes say about one anomaly (open in it, or fixed by it)."""

    __tablename__ = "triage_release_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(sa.ForeignKey("triage_releases.id", ondelete="CASCADE"))
    anomaly_id: Mapped[int] = mapped_column(sa.ForeignKey("triage_anomalies.id"), index=True)
    section: Mapped[EntrySection] = mapped_column(str_enum(EntrySection, "release_entry_section"))
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text)
    workaround: Mapped[str | None] = mapped_column(sa.Text)
    severity: Mapped[AnomalySeverity | None] = mapped_column(str_enum(AnomalySeverity, "entry_severity"))
    affected: Mapped[list] = mapped_column(sa.JSON)
    fixed_in: Mapped[list] = mapped_column(sa.JSON)
    signatures: Mapped[list] = mapped_column(sa.JSON)

    release: Mapped[Release] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("release_id", "anomaly_id"),)


class Ruling(db.Model):
    """A partner engineer's ruling on one suggested anomaly for one case (checklist item 5)."""

    __tablename__ = "triage_rulings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    anomaly_id: Mapped[int] = mapped_column(sa.ForeignKey("triage_anomalies.id"), index=True)
    ruling: Mapped[RulingKind] = mapped_column(str_enum(RulingKind, "ruling_kind"))
    ruled_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    ruled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    anomaly: Mapped[KnownAnomaly] = relationship(lazy="joined")
    ruled_by: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("case_id", "anomaly_id"),)


class AppliedFix(db.Model):
    """A case the partner resolved without escalating, by applying the known fix of an anomaly it matched.

    Rows are history: reopening the case (the fix did not help) stamps
    `reopened_at` and keeps the row, so GTAC can later see what was tried.
    """

    __tablename__ = "triage_applied_fixes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    anomaly_id: Mapped[int] = mapped_column(sa.ForeignKey("triage_anomalies.id"))
    action: Mapped[FixAction] = mapped_column(str_enum(FixAction, "fix_action"))
    # The first release that fixes the anomaly after the case's version, when the action is an upgrade.
    target_release: Mapped[str | None] = mapped_column(sa.String(64))
    note: Mapped[str | None] = mapped_column(sa.Text)
    resolved_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopen_reason: Mapped[str | None] = mapped_column(sa.Text)

    anomaly: Mapped[KnownAnomaly] = relationship(lazy="joined")
    resolved_by: Mapped[User] = relationship(lazy="joined")
