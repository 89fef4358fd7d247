"""Rebate programme demo data: the Growth Rebate with the current quarter, targets, some sales of
Northwind and Contoso and one alleviation, so that a partner's rebate portal shows at once.
Safe to run again: an existing programme is left as it is."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import Organisation, User
from app.clock import now
from app.programmes import sales, services, targets
from app.programmes.models import RebateProgramme
from app.quarters import quarter_of
from app.uow import unit_of_work

NAME = "Growth Rebate"


def seed_programme() -> None:
    with unit_of_work() as uow:
        if uow.session.scalar(sa.select(RebateProgramme.id).where(RebateProgramme.name == NAME)):
            return
        programs = uow.session.scalars(sa.select(User).where(User.email == "programs@vendor.example")).one()
        northwind = uow.session.scalars(sa.select(Organisation).where(Organisation.name == "Northwind Networks")).one()
    today = now().date()
    label, start, end = quarter_of(today)
    programme = services.create_programme(programs, NAME, "USD", 50_000_000)  # 500,000.00 USD a quarter
    services.add_period(programs, programme.id, label, start, end)
    targets.set_target(programs, programme.id, northwind.id, 40_000_000, start)
    span = max((today - start).days, 1)
    bookings = [("Northwind Networks", "EXOS", "180000.00", 0.2), ("Northwind Networks", "VOSS", "95500.50", 0.5),
                ("Northwind Networks", "EXOS", "61250.00", 0.9), ("Contoso Integrators", "VOSS", "120000.00", 0.3),
                ("Contoso Integrators", "WING", "42000.00", 0.8)]
    lines = ["partner,invoice_reference,date,product_family,amount,currency"]
    for n, (partner, family, amount, at) in enumerate(bookings, start=1):
        lines.append(f"{partner},INV-{label}-{n:04d},{start + timedelta(days=int(span * at))},{family},{amount},USD")
    sales.import_sales(programs, lines, "demo-bookings.csv")
    targets.apply_alleviation(programs, programme.id, start + (end - start) // 2, 1000,
                              "Supply shortage: every target lowered by 10 % for the rest of the quarter.")
