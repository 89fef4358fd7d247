"""A past quarter of a rebate programme, driven through the services as the programmes team does."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.accounts.models import Organisation, User
from app.extensions import db
from app.programmes import sales, services

HEADER = "partner,invoice_reference,date,product_family,amount,currency"
Q3 = ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30))  # 92 days, over: it may be closed


def user(email: str) -> User:
    return db.session.scalars(sa.select(User).where(User.email == email)).one()


def partner(name: str) -> Organisation:
    return db.session.scalars(sa.select(Organisation).where(Organisation.name == name)).one()


def programme_with_q3(name: str = "Volume Rebate", baseline: int = 10_000_000):
    """A USD programme (baseline 100,000.00, default tiers) with 2025-Q3; returns (programme, period)."""
    programs = user("programs@vendor.example")
    programme = services.create_programme(programs, name, "USD", baseline)
    period = services.add_period(programs, programme.id, *Q3)
    return programme, period


def bookings(*rows: str) -> list[str]:
    return [HEADER, *rows]


def import_lines(*rows: str, **options):
    return sales.import_sales(user("programs@vendor.example"), bookings(*rows), "q3.csv", **options)
