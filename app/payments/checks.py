"""The ledger's invariants, verified from the entries themselves (`flask ledger check`).

Each check is one aggregate query, so the whole ledger is verified in a few
queries however many payouts it holds.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.payments.ledger import CACHED_KIND, PENDING_KINDS, derived_totals, open_pending_ids
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
                  _prefunding_never_negative, _in_transit_matches_payouts, _payouts_match_claims,
                  _claims_have_payouts, _payout_money_matches_status):
        found.extend(check(session))
    return found


def _limited(check: str, rows, describe) -> list[Violation]:
    rows = list(rows)
    out = [Violation(check, describe(row)) for row in rows[:SAMPLE]]
    if len(rows) > SAMPLE:
        out.append(Violation(check, f"... and {len(rows) - SAMPLE} more"))
    return out


# Each check's statements are built once, on first use: building them cost as much as running them,
# and the ledger's property test runs every check after each step.
@cache
def _unbalanced_transfers() -> sa.Select:
    return (sa.select(LedgerEntry.transfer_id, LedgerEntry.currency, sa.func.sum(LedgerEntry.amount))
            .group_by(LedgerEntry.transfer_id, LedgerEntry.currency)
            .having(sa.func.sum(LedgerEntry.amount) != 0))


def _transfers_balance(session: Session) -> list[Violation]:
    rows = session.execute(_unbalanced_transfers())
    return _limited("sum_zero", rows, lambda r: f"transfer {r[0]}: entries sum to {r[2]} {r[1]}, not zero")


@cache
def _transfer_shape_queries() -> tuple[sa.Select, sa.Select, sa.Select]:
    """Transfers with the wrong number of entries; entries that disagree with their transfer or
    account; resolutions that do not match what they resolve."""
    entry_count = (sa.select(sa.func.count()).where(LedgerEntry.transfer_id == LedgerTransfer.id)
                   .correlate(LedgerTransfer).scalar_subquery())
    bad_shape = sa.select(LedgerTransfer.id, LedgerTransfer.kind, entry_count).where(
        sa.or_(sa.and_(LedgerTransfer.kind == TransferKind.VOID, entry_count != 0),
               sa.and_(LedgerTransfer.kind != TransferKind.VOID, entry_count < 2)))
    mixed = (sa.select(LedgerEntry.id).join(LedgerTransfer).join(LedgerAccount)
             .where(sa.or_(LedgerEntry.currency != LedgerTransfer.currency,
                           LedgerEntry.currency != LedgerAccount.currency,
                           LedgerEntry.pending != LedgerTransfer.kind.in_(PENDING_KINDS))))
    resolution = aliased(LedgerTransfer)
    bad_resolution = (sa.select(resolution.id).join(LedgerTransfer, resolution.pending_id == LedgerTransfer.id)
                      .where(sa.or_(LedgerTransfer.kind.not_in(PENDING_KINDS),
                                    resolution.amount != LedgerTransfer.amount,
                                    resolution.payout_id != LedgerTransfer.payout_id)))
    return bad_shape, mixed, bad_resolution


def _entries_match_transfers(session: Session) -> list[Violation]:
    bad_shape, mixed, bad_resolution = _transfer_shape_queries()
    out = _limited("transfer_shape", session.execute(bad_shape),
                   lambda r: f"transfer {r[0]} ({r[1].value}) has {r[2]} entries")
    out += _limited("entry_consistency", session.execute(mixed),
                    lambda r: f"entry {r[0]}: currency or pending flag disagrees with its transfer/account")
    out += _limited("resolution", session.execute(bad_resolution),
                    lambda r: f"transfer {r[0]} resolves something that is not its pending transfer")
    return out


@cache
def _stale_caches() -> sa.Select:
    derived = derived_totals()
    cached = LedgerAccount.kind == CACHED_KIND
    want = [sa.case((cached, sa.func.coalesce(column, 0)), else_=0)
            for column in (derived.c.posted, derived.c.pending_debits, derived.c.pending_credits)]
    return (sa.select(LedgerAccount.key, LedgerAccount.posted, LedgerAccount.pending_debits,
                      LedgerAccount.pending_credits, *want)
            .outerjoin(derived, derived.c.account_id == LedgerAccount.id)
            .where(sa.or_(LedgerAccount.posted != want[0], LedgerAccount.pending_debits != want[1],
                          LedgerAccount.pending_credits != want[2])))


def _cache_matches_entries(session: Session) -> list[Violation]:
    """The pre-funding cache equals its entries; no other account keeps one (its columns stay zero)."""
    return _limited("cached_balance", session.execute(_stale_caches()),
                    lambda r: f"account {r[0]}: cached posted/pending {r[1]}/{r[2]}/{r[3]} "
                              f"but should be {r[4]}/{r[5]}/{r[6]}")


@cache
def _prefunding_queries() -> tuple[sa.Select, sa.Select, sa.Select, sa.Select]:
    """The pre-funding accounts; then, for one of them (:account): its posted total, its open
    pending debits, and the first entry after which its posted balance was negative."""
    account = sa.bindparam("account")
    accounts = sa.select(LedgerAccount.id, LedgerAccount.key).where(LedgerAccount.kind == AccountKind.PREFUNDING)
    posted = sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account_id == account, LedgerEntry.pending.is_(False))
    open_ids = open_pending_ids().subquery()
    pending = sa.select(sa.func.coalesce(sa.func.sum(-LedgerEntry.amount), 0)).where(
        LedgerEntry.account_id == account, LedgerEntry.pending.is_(True), LedgerEntry.amount < 0,
        LedgerEntry.transfer_id.in_(sa.select(open_ids.c.id)))
    running = sa.func.sum(LedgerEntry.amount).over(order_by=LedgerEntry.id)
    history = (sa.select(LedgerEntry.id, running.label("balance"))
               .where(LedgerEntry.account_id == account, LedgerEntry.pending.is_(False)).subquery())
    first_negative = sa.select(history.c.id, history.c.balance).where(history.c.balance < 0).limit(1)
    return accounts, posted, pending, first_negative


def _prefunding_never_negative(session: Session) -> list[Violation]:
    out = []
    accounts, posted_of, pending_of, first_negative = _prefunding_queries()
    for account_id, key in session.execute(accounts).all():
        posted = session.scalar(posted_of, {"account": account_id}) or 0
        pending = session.scalar(pending_of, {"account": account_id}) or 0
        if posted - pending < 0:
            out.append(Violation("prefunding_negative",
                                 f"{key}: available {posted - pending} (posted {posted}, pending {pending})"))
        low = session.execute(first_negative, {"account": account_id}).first()
        if low is not None:
            out.append(Violation("prefunding_negative", f"{key}: posted balance was {low[1]} after entry {low[0]}"))
    return out


@cache
def _in_transit_sides() -> tuple[sa.Select, sa.Select]:
    """Per currency: what the in-transit accounts hold, and what the payouts in transit add up to."""
    derived = derived_totals()
    ledger_side = (sa.select(LedgerAccount.currency,
                             sa.func.sum(derived.c.posted + derived.c.pending_credits - derived.c.pending_debits))
                   .join(derived, derived.c.account_id == LedgerAccount.id)
                   .where(LedgerAccount.kind == AccountKind.IN_TRANSIT).group_by(LedgerAccount.currency))
    payout_side = (sa.select(Payout.currency, sa.func.sum(Payout.amount))
                   .where(Payout.status == PayoutStatus.IN_TRANSIT).group_by(Payout.currency))
    return ledger_side, payout_side


def _in_transit_matches_payouts(session: Session) -> list[Violation]:
    """Per currency, the in-transit accounts hold exactly the payouts that are in transit."""
    ledger_side, payout_side = (dict(session.execute(query).all()) for query in _in_transit_sides())
    rows = [(currency, int(ledger_side.get(currency) or 0), int(payout_side.get(currency) or 0))
            for currency in sorted(set(ledger_side) | set(payout_side))]
    return _limited("in_transit", [r for r in rows if r[1] != r[2]],
                    lambda r: f"in transit {r[0]}: the ledger holds {r[1]} but payouts in transit "
                              f"add up to {r[2]}")


@cache
def _claim_queries() -> tuple[sa.Select, sa.Select, sa.Select]:
    """Payouts that differ from their claim; claims with more than one payout; every payout's status
    beside its claim's."""
    differing = (sa.select(Payout.id, Payout.status, Claim.id, Claim.status)
                 .join(Claim, Claim.id == Payout.claim_id)
                 .where(sa.or_(Claim.status.not_in(list(APPROVED_CLAIM_STATUSES)), Claim.approved_at.is_(None),
                               Claim.amount != Payout.amount, Claim.currency != Payout.currency,
                               Claim.partner_id != Payout.partner_id)))
    duplicates = sa.select(Payout.claim_id, sa.func.count()).group_by(Payout.claim_id).having(sa.func.count() > 1)
    statuses = sa.select(Payout.id, Payout.status, Claim.status).join(Claim, Claim.id == Payout.claim_id)
    return differing, duplicates, statuses


def _payouts_match_claims(session: Session) -> list[Violation]:
    differing, duplicates, statuses = _claim_queries()
    out = _limited("payout_claim", session.execute(differing),
                   lambda r: f"payout {r[0]} is tied to claim {r[2]} which is {r[3].value}, or differs from it")
    out += _limited("payout_claim", session.execute(duplicates), lambda r: f"claim {r[0]} has {r[1]} payouts")
    mismatched = [(p, ps, cs) for p, ps, cs in session.execute(statuses) if CLAIM_STATUS[ps] is not cs]
    out += _limited("claim_status", mismatched,
                    lambda r: f"payout {r[0]} is {r[1].value} but its claim is {r[2].value}")
    return out


@cache
def _claims_without_payout() -> sa.Select:
    return (sa.select(Claim.id, Claim.status).outerjoin(Payout, Payout.claim_id == Claim.id)
            .where(Claim.status.in_(list(APPROVED_CLAIM_STATUSES)), Payout.id.is_(None)))


def _claims_have_payouts(session: Session) -> list[Violation]:
    return _limited("claim_payout", session.execute(_claims_without_payout()),
                    lambda r: f"claim {r[0]} is {r[1].value} without a payout")


@cache
def _payout_transfer_queries() -> tuple[sa.Select, sa.Select, sa.Select]:
    """Per payout and kind: its transfers, and its open pending transfers; then every payout's status."""
    per_kind = (sa.select(LedgerTransfer.payout_id, LedgerTransfer.kind, sa.func.count())
                .group_by(LedgerTransfer.payout_id, LedgerTransfer.kind))
    return (per_kind.where(LedgerTransfer.payout_id.is_not(None)),
            per_kind.where(LedgerTransfer.id.in_(open_pending_ids())),
            sa.select(Payout.id, Payout.status).order_by(Payout.id))


def _payout_money_matches_status(session: Session) -> list[Violation]:
    """Each payout's transfers agree with its status; in particular a paid claim was settled once."""
    transfers, open_transfers, payouts = _payout_transfer_queries()
    by_payout: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for payout_id, kind, count in session.execute(transfers):
        by_payout[payout_id][kind.value] = count
    open_by_payout: dict[tuple[int, TransferKind], int] = defaultdict(int)
    for payout_id, kind, count in session.execute(open_transfers):
        open_by_payout[payout_id, kind] = count
    problems = []
    for payout_id, status in session.execute(payouts):
        kinds = by_payout.get(payout_id, {})
        net_paid = kinds.get("settlement", 0) - kinds.get("return", 0)
        reserved = open_by_payout.get((payout_id, TransferKind.RESERVATION), 0)
        handed_over = open_by_payout.get((payout_id, TransferKind.HANDOVER), 0)
        want_net = 1 if status is PayoutStatus.PAID else 0
        want_reserved = 1 if status in (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT) else 0
        want_handed_over = 1 if status is PayoutStatus.IN_TRANSIT else 0
        if net_paid != want_net or reserved != want_reserved or handed_over != want_handed_over:
            problems.append((payout_id, status, net_paid, reserved, handed_over))
    return _limited("payout_ledger", problems,
                    lambda r: f"payout {r[0]} is {r[1].value} but has {r[2]} net settlement(s), "
                              f"{r[3]} open reservation(s) and {r[4]} open handover(s)")


def summary(session: Session) -> dict[str, int]:
    """Counts shown by the check command next to its verdict."""
    return {
        "transfers": session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer)) or 0,
        "entries": session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) or 0,
        "payouts": session.scalar(sa.select(sa.func.count()).select_from(Payout)) or 0,
        "paid_claims": session.scalar(sa.select(sa.func.count()).where(Claim.status == ClaimStatus.PAID)) or 0,
    }
