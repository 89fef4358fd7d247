"""The ledger's invariants, verified from the entries themselves (`flask ledger check`).

Each check is one aggregate query, so the whole ledger is verified in a few
queries however many payouts it holds.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.payments.models import (APPROVED_CLAIM_STATUSES, AccountKind, Claim, ClaimStatus, LedgerAccount,
                                 LedgerEntry, LedgerTransfer, Payout, PayoutStatus, TransferKind)
from app.payments.payouts import CLAIM_STATUS

SAMPLE = 20  # violations listed per check; the count is always complete


@dataclass
class Violation:
    check: str
    message: str


def check_ledger(session: Session) -> list[Violation]:
    """Every invariant; an empty list means the ledger is sound."""
    found: list[Violation] = []
    for check in (_transfers_balance, _entries_match_transfers, _cache_matches_entries,
                  _prefunding_never_negative, _payouts_match_claims, _claims_have_payouts,
                  _payout_money_matches_status):
        found.extend(check(session))
    return found


def _limited(check: str, rows, describe) -> list[Violation]:
    rows = list(rows)
    out = [Violation(check, describe(row)) for row in rows[:SAMPLE]]
    if len(rows) > SAMPLE:
        out.append(Violation(check, f"... and {len(rows) - SAMPLE} more"))
    return out


def _transfers_balance(session: Session) -> list[Violation]:
    rows = session.execute(
        sa.select(LedgerEntry.transfer_id, LedgerEntry.currency, sa.func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.transfer_id, LedgerEntry.currency)
        .having(sa.func.sum(LedgerEntry.amount) != 0))
    return _limited("sum_zero", rows, lambda r: f"transfer {r[0]}: entries sum to {r[2]} {r[1]}, not zero")


def _entries_match_transfers(session: Session) -> list[Violation]:
    entry_count = (sa.select(sa.func.count()).where(LedgerEntry.transfer_id == LedgerTransfer.id)
                   .correlate(LedgerTransfer).scalar_subquery())
    bad_shape = session.execute(sa.select(LedgerTransfer.id, LedgerTransfer.kind, entry_count).where(
        sa.or_(sa.and_(LedgerTransfer.kind == TransferKind.VOID, entry_count != 0),
               sa.and_(LedgerTransfer.kind != TransferKind.VOID, entry_count < 2))))
    out = _limited("transfer_shape", bad_shape,
                   lambda r: f"transfer {r[0]} ({r[1].value}) has {r[2]} entries")
    mixed = session.execute(
        sa.select(LedgerEntry.id).join(LedgerTransfer).join(LedgerAccount)
        .where(sa.or_(LedgerEntry.currency != LedgerTransfer.currency,
                      LedgerEntry.currency != LedgerAccount.currency,
                      LedgerEntry.pending != (LedgerTransfer.kind == TransferKind.RESERVATION))))
    out += _limited("entry_consistency", mixed,
                    lambda r: f"entry {r[0]}: currency or pending flag disagrees with its transfer/account")
    resolution = aliased(LedgerTransfer)
    bad_resolution = session.execute(
        sa.select(resolution.id).join(LedgerTransfer, resolution.pending_id == LedgerTransfer.id)
        .where(sa.or_(LedgerTransfer.kind != TransferKind.RESERVATION,
                      resolution.amount != LedgerTransfer.amount,
                      resolution.payout_id != LedgerTransfer.payout_id)))
    out += _limited("resolution", bad_resolution,
                    lambda r: f"transfer {r[0]} resolves something that is not its reservation")
    return out


def _open_reservations():
    resolution = aliased(LedgerTransfer)
    return (sa.select(LedgerTransfer.id)
            .where(LedgerTransfer.kind == TransferKind.RESERVATION)
            .where(~sa.exists().where(resolution.pending_id == LedgerTransfer.id)))


def _cache_matches_entries(session: Session) -> list[Violation]:
    open_ids = _open_reservations().subquery()
    posted = sa.func.coalesce(sa.func.sum(sa.case((LedgerEntry.pending.is_(False), LedgerEntry.amount),
                                                  else_=0)), 0)
    is_open = LedgerEntry.transfer_id.in_(sa.select(open_ids.c.id))
    pending_debits = sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(LedgerEntry.pending.is_(True), is_open, LedgerEntry.amount < 0), -LedgerEntry.amount),
        else_=0)), 0)
    pending_credits = sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(LedgerEntry.pending.is_(True), is_open, LedgerEntry.amount > 0), LedgerEntry.amount),
        else_=0)), 0)
    derived = (sa.select(LedgerEntry.account_id.label("account_id"), posted.label("posted"),
                         pending_debits.label("pending_debits"), pending_credits.label("pending_credits"))
               .group_by(LedgerEntry.account_id).subquery())
    rows = session.execute(
        sa.select(LedgerAccount.key, LedgerAccount.posted, LedgerAccount.pending_debits,
                  LedgerAccount.pending_credits, derived.c.posted, derived.c.pending_debits,
                  derived.c.pending_credits)
        .outerjoin(derived, derived.c.account_id == LedgerAccount.id)
        .where(sa.or_(LedgerAccount.posted != sa.func.coalesce(derived.c.posted, 0),
                      LedgerAccount.pending_debits != sa.func.coalesce(derived.c.pending_debits, 0),
                      LedgerAccount.pending_credits != sa.func.coalesce(derived.c.pending_credits, 0))))
    return _limited("cached_balance", rows,
                    lambda r: f"account {r[0]}: cached posted/pending {r[1]}/{r[2]}/{r[3]} "
                              f"but entries give {r[4] or 0}/{r[5] or 0}/{r[6] or 0}")


def _prefunding_never_negative(session: Session) -> list[Violation]:
    out = []
    accounts = session.scalars(sa.select(LedgerAccount).where(LedgerAccount.kind == AccountKind.PREFUNDING))
    open_ids = _open_reservations().subquery()
    for account in accounts:
        posted = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account.id, LedgerEntry.pending.is_(False))) or 0
        pending = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(-LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account.id, LedgerEntry.pending.is_(True), LedgerEntry.amount < 0,
            LedgerEntry.transfer_id.in_(sa.select(open_ids.c.id)))) or 0
        if posted - pending < 0:
            out.append(Violation("prefunding_negative",
                                 f"{account.key}: available {posted - pending} (posted {posted}, pending {pending})"))
        running = sa.func.sum(LedgerEntry.amount).over(order_by=LedgerEntry.id)
        history = (sa.select(LedgerEntry.id, running.label("balance"))
                   .where(LedgerEntry.account_id == account.id, LedgerEntry.pending.is_(False)).subquery())
        low = session.execute(sa.select(history.c.id, history.c.balance).where(history.c.balance < 0).limit(1)).first()
        if low is not None:
            out.append(Violation("prefunding_negative",
                                 f"{account.key}: posted balance was {low[1]} after entry {low[0]}"))
    return out


def _payouts_match_claims(session: Session) -> list[Violation]:
    rows = session.execute(
        sa.select(Payout.id, Payout.status, Claim.id, Claim.status)
        .join(Claim, Claim.id == Payout.claim_id)
        .where(sa.or_(Claim.status.not_in(list(APPROVED_CLAIM_STATUSES)), Claim.approved_at.is_(None),
                      Claim.amount != Payout.amount, Claim.currency != Payout.currency,
                      Claim.partner_id != Payout.partner_id)))
    out = _limited("payout_claim", rows,
                   lambda r: f"payout {r[0]} is tied to claim {r[2]} which is {r[3].value}, or differs from it")
    duplicates = session.execute(sa.select(Payout.claim_id, sa.func.count()).group_by(Payout.claim_id)
                                 .having(sa.func.count() > 1))
    out += _limited("payout_claim", duplicates, lambda r: f"claim {r[0]} has {r[1]} payouts")
    mismatched = [(p, ps, cs) for p, ps, cs in session.execute(
        sa.select(Payout.id, Payout.status, Claim.status).join(Claim, Claim.id == Payout.claim_id))
        if CLAIM_STATUS[ps] is not cs]
    out += _limited("claim_status", mismatched,
                    lambda r: f"payout {r[0]} is {r[1].value} but its claim is {r[2].value}")
    return out


def _claims_have_payouts(session: Session) -> list[Violation]:
    rows = session.execute(
        sa.select(Claim.id, Claim.status).outerjoin(Payout, Payout.claim_id == Claim.id)
        .where(Claim.status.in_(list(APPROVED_CLAIM_STATUSES)), Payout.id.is_(None)))
    return _limited("claim_payout", rows, lambda r: f"claim {r[0]} is {r[1].value} without a payout")


def _payout_money_matches_status(session: Session) -> list[Violation]:
    """Each payout's transfers agree with its status; in particular a paid claim was settled once."""
    by_payout: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for payout_id, kind, count in session.execute(
            sa.select(LedgerTransfer.payout_id, LedgerTransfer.kind, sa.func.count())
            .where(LedgerTransfer.payout_id.is_not(None))
            .group_by(LedgerTransfer.payout_id, LedgerTransfer.kind)):
        by_payout[payout_id][kind.value] = count
    open_by_payout: dict[int, int] = defaultdict(int)
    for payout_id, count in session.execute(
            sa.select(LedgerTransfer.payout_id, sa.func.count())
            .where(LedgerTransfer.id.in_(_open_reservations())).group_by(LedgerTransfer.payout_id)):
        open_by_payout[payout_id] = count
    problems = []
    for payout_id, status in session.execute(sa.select(Payout.id, Payout.status).order_by(Payout.id)):
        kinds = by_payout.get(payout_id, {})
        net_paid = kinds.get("settlement", 0) - kinds.get("return", 0)
        reserved = open_by_payout.get(payout_id, 0)
        want_net = 1 if status is PayoutStatus.PAID else 0
        want_reserved = 1 if status in (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT) else 0
        if net_paid != want_net or reserved != want_reserved:
            problems.append((payout_id, status, net_paid, reserved))
    return _limited("payout_ledger", problems,
                    lambda r: f"payout {r[0]} is {r[1].value} but has {r[2]} net settlement(s) "
                              f"and {r[3]} open reservation(s)")


def summary(session: Session) -> dict[str, int]:
    """Counts shown by the check command next to its verdict."""
    return {
        "transfers": session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer)) or 0,
        "entries": session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) or 0,
        "payouts": session.scalar(sa.select(sa.func.count()).select_from(Payout)) or 0,
        "paid_claims": session.scalar(sa.select(sa.func.count()).where(Claim.status == ClaimStatus.PAID)) or 0,
    }
