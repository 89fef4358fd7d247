"""Partner levels, their requirements, what partners hold (trainings, specialisations, exceptions),
each partner's status, waivers, and the programme-wide changes made to all of it."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organisation
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db


class RequirementKind(str, enum.Enum):
    # `subject` is a product family, a course code or a specialisation's name, in that order.
    CERTIFIED_ENGINEERS = "certified_engineers"
    TRAINING = "training"
    SPECIALISATION = "specialisation"


class PartnerLevel(db.Model):
    """A level of the programme (Registered, Silver, Gold...); rank orders them, 1 the lowest."""

    __tablename__ = "partner_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    rank: Mapped[int] = mapped_column(sa.Integer, unique=True)

    requirements: Mapped[list[LevelRequirement]] = relationship(back_populates="level",
                                                                order_by="LevelRequirement.code")


class LevelRequirement(db.Model):
    """What a partner of a level must show by the deadline: `minimum` certified engineers of a
    family, engineers who completed a course, or an active specialisation."""

    __tablename__ = "level_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    level_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_levels.id"))
    code: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[RequirementKind] = mapped_column(str_enum(RequirementKind, "requirement_kind"))
    subject: Mapped[str] = mapped_column(sa.String(64))
    minimum: Mapped[int] = mapped_column(sa.Integer)
    deadline: Mapped[date] = mapped_column(sa.Date)

    level: Mapped[PartnerLevel] = relationship(back_populates="requirements")

    __table_args__ = (
        sa.UniqueConstraint("level_id", "code"),
        sa.CheckConstraint("minimum >= 1", name="minimum_positive"),
    )


class PartnerStatus(db.Model):
    """A partner's level, the day it holds it through, and its next levelling review."""

    __tablename__ = "partner_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), unique=True)
    level_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_levels.id"), index=True)
    valid_through: Mapped[date] = mapped_column(sa.Date)
    next_review_on: Mapped[date] = mapped_column(sa.Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    partner: Mapped[Organisation] = relationship(lazy="joined")
    level: Mapped[PartnerLevel] = relationship(lazy="joined")


class TrainingCompletion(db.Model):
    """A course an engineer completed, as the training system records it."""

    __tablename__ = "training_completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    course: Mapped[str] = mapped_column(sa.String(64))
    completed_on: Mapped[date] = mapped_column(sa.Date)

    __table_args__ = (sa.UniqueConstraint("user_id", "course"),)


class Specialisation(db.Model):
    """A specialisation a partner holds from starts_on through ends_on."""

    __tablename__ = "partner_specialisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(sa.String(64))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)

    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        sa.Index("ix_partner_specialisations_partner", "partner_id", "name"),
    )


class RequirementWaiver(db.Model):
    """A requirement waived for every partner until a day. Never edited: a later waiver is a new row,
    and the one reaching furthest counts."""

    __tablename__ = "requirement_waivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_id: Mapped[int] = mapped_column(sa.ForeignKey("level_requirements.id"), index=True)
    until: Mapped[date] = mapped_column(sa.Date)
    change_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner_status_changes.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PartnerException(db.Model):
    """One partner excused from one requirement until a day; granted_until keeps the first
    day granted, so that an extension shows."""

    __tablename__ = "partner_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    requirement_id: Mapped[int] = mapped_column(sa.ForeignKey("level_requirements.id"))
    until: Mapped[date] = mapped_column(sa.Date)
    granted_until: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("partner_id", "requirement_id"),)


class StatusChange(db.Model):
    """A programme-wide change as applied: its kind, what it was given, why and how many it reached."""

    __tablename__ = "partner_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    parameters: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.Text)
    affected: Mapped[int] = mapped_column(sa.Integer)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
