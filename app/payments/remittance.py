"""Remittance advice: for each payment, the claims it pays, as the partner's e-mail and payments page show them.

A payment pays one claim today (payouts.claim_id is unique), but the advice is a
list, as a remittance advice is: the partner reconciles the money against its
claims, under the programme platform's own reference where the platform pushed it.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.integrations.models import PushedClaim
from app.payments.models import Claim, Payout, PayoutStatus
from app.payments.money import format_amount
from app.uow import unit_of_work


@dataclass(frozen=True)
class RemittanceLine:
    claim_id: int
    type: str
    period: str
    description: str
    amount: int
    currency: str
    platform_reference: str | None  # the programme platform's reference of a pushed claim

    def text(self) -> str:
        reference = f", platform reference {self.platform_reference}" if self.platform_reference else ""
        return (f"- Claim {self.claim_id} ({self.type}, {self.period}{reference}): "
                f"{format_amount(self.amount, self.currency)}\n  {self.description}")


def lines_for(session, payouts: list[Payout]) -> dict[int, list[RemittanceLine]]:
    """{payout id: the claims it pays}, in one query."""
    by_claim = {payout.claim_id: payout.id for payout in payouts}
    rows = session.execute(sa.select(Claim, PushedClaim.reference)
                           .outerjoin(PushedClaim, PushedClaim.claim_id == Claim.id)
                           .where(Claim.id.in_(list(by_claim))).order_by(Claim.id)).all()
    found: dict[int, list[RemittanceLine]] = {payout.id: [] for payout in payouts}
    for claim, reference in rows:
        found[by_claim[claim.id]].append(RemittanceLine(
            claim_id=claim.id, type=claim.type.value, period=claim.period, description=claim.description,
            amount=claim.amount, currency=claim.currency, platform_reference=reference))
    return found


def advice_text(payout: Payout, lines: list[RemittanceLine], url: str) -> str:
    """The e-mail's body: the payment, each claim it pays, the total."""
    paid_on = f" on {payout.paid_at:%Y-%m-%d}" if payout.paid_at else ""
    total = format_amount(sum(line.amount for line in lines), payout.currency)
    return (f"Remittance advice\n\nPayment {payout.reference} of {format_amount(payout.amount, payout.currency)} "
            f"was paid{paid_on}.\n\nClaims paid by this payment:\n"
            + "\n".join(line.text() for line in lines)
            + f"\n\nTotal: {total}\n\n{url}\n")


def recent_advices(actor: User, limit: int = 10) -> list[tuple[Payout, list[RemittanceLine]]]:
    """The caller's latest paid payments (a partner's own), each with the claims it pays."""
    access.require(actor, "payout.read")
    with unit_of_work() as uow:
        paid = list(uow.session.scalars(access.visible_payouts(actor)
                                        .where(Payout.status.in_([PayoutStatus.PAID, PayoutStatus.RETURNED]))
                                        .order_by(Payout.paid_at.desc(), Payout.id.desc()).limit(limit)))
        lines = lines_for(uow.session, paid)
        return [(payout, lines[payout.id]) for payout in paid]
