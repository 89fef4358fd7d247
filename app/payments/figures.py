"""Operational figures of the payments for the metrics endpoint: payouts per state, pre-funding balances."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.payments.models import AccountKind, LedgerAccount, Payout


def payouts_per_state(session: Session) -> dict[str, int]:
    return {status.value: count for status, count in
            session.execute(sa.select(Payout.status, sa.func.count()).group_by(Payout.status))}


def prefunding_balances(session: Session) -> dict[str, int]:
    """currency -> what the pre-funding account can still pay out, in minor units (posted less reserved)."""
    return dict(session.execute(sa.select(LedgerAccount.currency,
                                          LedgerAccount.posted - LedgerAccount.pending_debits)
                                .where(LedgerAccount.kind == AccountKind.PREFUNDING)).all())
