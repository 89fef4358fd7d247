"""Rebate programmes: periods, tiers, partners' target versions, alleviations, sales, settlements.

Money is an integer number of minor units in the programme's currency; rates and
attainment are basis points (10000 = 100 %), never floats.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organisation
from app.db import UTCDateTime, utcnow
from app.extensions import db

Money = sa.BigInteger


class RebateProgramme(db.Model):
    __tablename__ = "rebate_programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    # Every partner's target for a period unless a target version says otherwise.
    baseline_target: Mapped[int] = mapped_column(Money)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    periods: Mapped[list[ProgrammePeriod]] = relationship(back_populates="programme",
                                                          order_by="ProgrammePeriod.starts_on")
    tiers: Mapped[list[RebateTier]] = relationship(order_by="RebateTier.from_bp")

    __table_args__ = (sa.CheckConstraint("baseline_target > 0", name="baseline_positive"),)


class ProgrammePeriod(db.Model):
    """A quarter of a programme; closed once its rebates are turned into claims."""

    __tablename__ = "programme_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("rebate_programmes.id"))
    label: Mapped[str] = mapped_column(sa.String(7))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    programme: Mapped[RebateProgramme] = relationship(back_populates="periods")

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    __table_args__ = (
        sa.UniqueConstraint("programme_id", "label"),
        sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )


class RebateTier(db.Model):
    """From this attainment on (basis points), this rebate rate (basis points of sales)."""

    __tablename__ = "rebate_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("rebate_programmes.id"))
    from_bp: Mapped[int] = mapped_column(sa.Integer)
    rate_bp: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (
        sa.UniqueConstraint("programme_id", "from_bp"),
        sa.CheckConstraint("from_bp >= 0 AND rate_bp >= 0 AND rate_bp <= 10000", name="bounds"),
    )


class TargetAlleviation(db.Model):
    """Targets lowered by a share from a date, for all partners or those of a tier or region."""

    __tablename__ = "target_alleviations"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("rebate_programmes.id"))
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_periods.id"))
    effective_from: Mapped[date] = mapped_column(sa.Date)
    reduction_bp: Mapped[int] = mapped_column(sa.Integer)
    tier: Mapped[str | None] = mapped_column(sa.String(8))
    region: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.Text)
    partners: Mapped[int] = mapped_column(sa.Integer)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.CheckConstraint("reduction_bp > 0 AND reduction_bp < 10000", name="reduction_bounds"),)


class TargetVersion(db.Model):
    """A partner's target for a period from a date on. Never edited: a change is a new version.

    The target in force on a day is the version with the latest effective_from on or
    before it (the later one of a day wins); before any version, the baseline.
    """

    __tablename__ = "target_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_periods.id"))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    amount: Mapped[int] = mapped_column(Money)
    effective_from: Mapped[date] = mapped_column(sa.Date)
    alleviation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("target_alleviations.id"))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_target_versions_period_partner", "period_id", "partner_id", "effective_from"),
    )


class Sale(db.Model):
    """One partner booking from the vendor's systems, known by its invoice reference."""

    __tablename__ = "partner_sales"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_reference: Mapped[str] = mapped_column(sa.String(64), unique=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    sold_on: Mapped[date] = mapped_column(sa.Date)
    product_family: Mapped[str] = mapped_column(sa.String(32))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    partner: Mapped[Organisation] = relationship(lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.Index("ix_partner_sales_partner_day", "partner_id", "sold_on"),
    )


class RebateSettlement(db.Model):
    """What period close computed for one partner, and the rebate claim it created (if any rebate)."""

    __tablename__ = "rebate_settlements"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_periods.id"))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    sales: Mapped[int] = mapped_column(Money)
    target: Mapped[int] = mapped_column(Money)
    attainment_bp: Mapped[int] = mapped_column(sa.Integer)
    rate_bp: Mapped[int] = mapped_column(sa.Integer)
    rebate: Mapped[int] = mapped_column(Money)
    claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claims.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    partner: Mapped[Organisation] = relationship(lazy="joined")

    # One rebate per programme period and partner: closing again cannot create a second claim.
    __table_args__ = (sa.UniqueConstraint("period_id", "partner_id"),)
