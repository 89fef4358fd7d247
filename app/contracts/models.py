"""Products and the service contracts that cover customers' serial numbers."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organisation, PartnerTier
from app.db import str_enum
from app.extensions import db


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    family: Mapped[str] = mapped_column(sa.String(32), index=True)
    model: Mapped[str] = mapped_column(sa.String(100))
    name: Mapped[str] = mapped_column(sa.String(200))


# Families keep the vendor's spelling but name the same family in any case (escalation, triage and
# certifications compare them case-insensitively), so "exos" beside "EXOS" would be one model twice.
sa.Index("uq_products_family_model_ci", sa.func.lower(Product.family), sa.func.lower(Product.model), unique=True)


class ServiceContract(db.Model):
    __tablename__ = "service_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    level: Mapped[PartnerTier] = mapped_column(str_enum(PartnerTier, "contract_level"))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)

    customer: Mapped[Organisation] = relationship(lazy="joined")
    serials: Mapped[list[CoveredSerial]] = relationship(back_populates="contract")

    def active_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class CoveredSerial(db.Model):
    """One serial number a contract covers, with the product it identifies."""

    __tablename__ = "covered_serials"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("service_contracts.id"))
    serial_number: Mapped[str] = mapped_column(sa.String(64), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))

    contract: Mapped[ServiceContract] = relationship(back_populates="serials", lazy="joined")
    product: Mapped[Product] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("contract_id", "serial_number"),)
