"""Pre-funding deposits: money in, then the payouts that were waiting for it go out."""
from __future__ import annotations

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.audit.services import record
from app.uow import unit_of_work
from app.errors import Conflict
from app.payments import ledger, payouts
from app.payments.models import FundingDeposit, Payout


def record_deposit(actor: User | None, amount: int, currency: str,
                   reference: str) -> tuple[FundingDeposit, list[Payout], bool]:
    """Credit the pre-funding balance and release waiting payouts, oldest approval first.

    The bank reference makes it idempotent: the same reference and amount is the
    same deposit (returned with created=False); the same reference with another
    amount or currency is a conflict.
    """
    if actor is not None:
        access.require(actor, "funding.record")
    with unit_of_work() as uow:
        ledger.lock_prefunding(uow, currency)
        existing = uow.session.scalars(sa.select(FundingDeposit).where(FundingDeposit.reference == reference)).one_or_none()
        if existing is not None:
            if (existing.amount, existing.currency) != (amount, currency):
                raise Conflict("This bank reference was already recorded with another amount.",
                               code="funding_reference_reused",
                               details={"reference": reference, "amount": existing.amount,
                                        "currency": existing.currency})
            return existing, [], False
        transfer = ledger.record_funding(uow, reference, amount, currency)
        deposit = FundingDeposit(amount=amount, currency=currency, reference=reference,
                                 recorded_by_id=actor.id if actor else None, transfer_id=transfer.id)
        uow.session.add(deposit)
        uow.session.flush()
        record(actor, "funding", deposit.id, "funding.recorded",
               after={"amount": amount, "currency": currency, "reference": reference})
        released = payouts.release_waiting(uow, currency)
        return deposit, released, True


def balances(actor: User) -> list[ledger.CurrencyBalance]:
    """The ledger totals per currency, for the programmes team."""
    access.require(actor, "ledger.read")
    with unit_of_work() as uow:
        return ledger.balances(uow)


def pipeline(actor: User) -> dict[str, list[tuple[str, int, int]]]:
    """Per currency: (payout status, count, amount) — the programmes' view of the pipeline."""
    access.require(actor, "ledger.read")
    with unit_of_work() as uow:
        rows = uow.session.execute(sa.select(Payout.currency, Payout.status, sa.func.count(),
                                         sa.func.coalesce(sa.func.sum(Payout.amount), 0))
                               .group_by(Payout.currency, Payout.status))
        result: dict[str, list[tuple[str, int, int]]] = {}
        for currency, status, count, amount in rows:
            result.setdefault(currency, []).append((status.value, int(count), int(amount)))
        return result
