"""Payments demo data: a funded pre-funding balance, an MDF allocation, partner bank details
and a claim waiting for approval. Safe to run again."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Organisation, User
from app.clock import now
from app.payments import claims, funding, payees
from app.payments.models import Claim, MdfAllocation, PayeeAccount
from app.quarters import quarter_of
from app.uow import unit_of_work

DEMO_FUNDING_REFERENCE = "DEMO-PREFUNDING-0001"
DEMO_FUNDING = 25_000_000  # 250,000.00 USD


def seed_payments() -> None:
    """Fund the programme, give Northwind an MDF allocation, its bank details and a submitted claim."""
    with unit_of_work() as uow:
        programs = uow.session.scalars(sa.select(User).where(User.email == "programs@vendor.example")).one()
        admin = uow.session.scalars(sa.select(User).where(User.email == "admin@northwind.example")).one()
        northwind = uow.session.scalars(sa.select(Organisation).where(Organisation.name == "Northwind Networks")).one()
        has_allocation, has_payee, has_claim = (
            uow.session.scalars(sa.select(model.id).filter_by(partner_id=northwind.id)).first() is not None
            for model in (MdfAllocation, PayeeAccount, Claim))
    funding.record_deposit(programs, DEMO_FUNDING, "USD", DEMO_FUNDING_REFERENCE)
    if not has_allocation:
        # The demo claim's quarter, and the quarter the MDF claim form starts at, so that a demo
        # partner can file an MDF claim as the form is pre-filled.
        for period in dict.fromkeys(("2026-Q3", quarter_of(now().date())[0])):
            claims.set_allocation(programs, northwind.id, period, "USD", 5_000_000)
    if not has_payee:
        # Entered as the partner's own admin would: staff never type bank details.
        payees.set_payee(admin, {"kind": "iban", "holder_name": "Northwind Networks Ltd",
                                 "iban": "GB33BUKB20201555555555", "bic": "BUKBGB22"})
    if not has_claim:
        # Below the second-approval threshold, so the one demo programmes user can approve it alone.
        claim = claims.create_claim(admin, {"type": "rebate", "amount": 850_000, "currency": "USD",
                                            "period": "2026-Q3",
                                            "description": "Q3 2026 volume rebate: 250 X465 switches sold"})
        claims.submit_claim(admin, claim.id)
