"""The double-entry ledger: accounts, immutable transfers, two-phase reservations.

Every movement is a transfer whose entries sum to zero (credit positive). A
payout's money moves in two phases, as in TigerBeetle:

  approval   reservation (pending)  prefunding -X   partner_payable +X
  paid       post of it             prefunding -X   partner_payable +X
             settlement             partner_payable -X   paid +X
  failed     void of it             (no entries: the reservation lapses)
  returned   return                 paid -X   prefunding +X   (compensating)

Pending debits count against the pre-funding balance, which therefore never
goes negative. Each account caches its posted and pending totals; the cache
is written in the same transaction as the entries and `flask ledger check`
proves it equal to them. Every function here runs inside the caller's
transaction and takes the session.

The cached balances are hot rows (one pre-funding account takes every
reservation), so their updates are collected during the transaction and
applied just before it commits, pre-funding accounts first, then by id: each
row is locked for the last statements only, always in the same order, so
concurrent transactions neither queue behind long work nor deadlock. The one
exception is a reservation, which must know at once whether the money is
there: a single conditional UPDATE checks and takes it atomically.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, aliased

from app.payments.locking import insert_if_absent, lock_one
from app.payments.models import (AccountKind, LedgerAccount, LedgerEntry, LedgerTransfer, Payout,
                                 TransferKind)


def account_key(kind: AccountKind, currency: str, partner_id: int | None = None) -> str:
    if kind is AccountKind.PARTNER_PAYABLE:
        return f"{kind.value}:{partner_id}:{currency}"
    return f"{kind.value}:{currency}"


def account(session: Session, kind: AccountKind, currency: str, partner_id: int | None = None) -> LedgerAccount:
    """The account, created on first use (safely when two transactions race to create it)."""
    key = account_key(kind, currency, partner_id)
    found = session.scalars(sa.select(LedgerAccount).where(LedgerAccount.key == key)).one_or_none()
    if found is not None:
        return found
    insert_if_absent(session, LedgerAccount.__table__,
                     {"key": key, "kind": kind.value, "partner_id": partner_id, "currency": currency,
                      "posted": 0, "pending_debits": 0, "pending_credits": 0},
                     index_elements=["key"])
    return session.scalars(sa.select(LedgerAccount).where(LedgerAccount.key == key)).one()


def lock_prefunding(session: Session, currency: str) -> LedgerAccount:
    """The pre-funding account of a currency, locked: the serialisation point of reservations."""
    account(session, AccountKind.PREFUNDING, currency)
    key = account_key(AccountKind.PREFUNDING, currency)
    return lock_one(session, sa.select(LedgerAccount).where(LedgerAccount.key == key))


def _transfer(session: Session, kind: TransferKind, key: str, amount: int, currency: str,
              legs: list[tuple[LedgerAccount, int]], *, pending: bool = False,
              resolves: LedgerTransfer | None = None, payout_id: int | None = None,
              memo: str | None = None, cached: frozenset[int] = frozenset()) -> LedgerTransfer:
    """Write a transfer and its entries; `cached` names accounts whose cache the caller already moved."""
    if sum(amount for _, amount in legs) != 0:
        raise ValueError("a transfer's entries must sum to zero")
    transfer = LedgerTransfer(key=key, kind=kind, amount=amount, currency=currency, memo=memo,
                              pending_id=resolves.id if resolves else None, payout_id=payout_id)
    session.add(transfer)
    session.flush()
    entries = []
    for leg_account, leg_amount in legs:
        if leg_account.currency != currency:
            raise ValueError("an entry's account must be in the transfer's currency")
        entries.append({"transfer_id": transfer.id, "account_id": leg_account.id, "amount": leg_amount,
                        "currency": currency, "pending": pending})
        if leg_account.id not in cached:
            _defer(session, leg_account, leg_amount, pending=pending)
    session.execute(sa.insert(LedgerEntry), entries)
    return transfer


def _defer(session: Session, account: LedgerAccount, amount: int, *, pending: bool,
           release: bool = False) -> None:
    """Note how one entry moves an account's cached totals; applied by apply_deferred()."""
    deltas = session.info.setdefault("ledger_deltas", {})
    delta = deltas.setdefault(account.id, [account.kind is AccountKind.PREFUNDING, 0, 0, 0])
    if pending or release:
        sign = -1 if release else 1
        if amount < 0:
            delta[2] += sign * -amount
        else:
            delta[3] += sign * amount
    else:
        delta[1] += amount


def apply_deferred(session: Session) -> None:
    """Write the collected balance changes: pre-funding accounts first, then by id."""
    deltas = session.info.pop("ledger_deltas", None)
    if not deltas:
        return
    for account_id, (_, posted, pending_debits, pending_credits) in sorted(
            deltas.items(), key=lambda item: (not item[1][0], item[0])):
        if posted or pending_debits or pending_credits:
            session.execute(sa.update(LedgerAccount).where(LedgerAccount.id == account_id).values(
                posted=LedgerAccount.posted + posted,
                pending_debits=LedgerAccount.pending_debits + pending_debits,
                pending_credits=LedgerAccount.pending_credits + pending_credits,
            ).execution_options(synchronize_session=False))


@event.listens_for(Session, "before_commit")
def _apply_before_commit(session: Session) -> None:
    apply_deferred(session)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("ledger_deltas", None)


def record_funding(session: Session, reference: str, amount: int, currency: str) -> LedgerTransfer:
    """Money in: from the vendor's bank to the pre-funding balance (posted at once)."""
    source = account(session, AccountKind.FUNDING_SOURCE, currency)
    prefunding = lock_prefunding(session, currency)
    return _transfer(session, TransferKind.FUNDING, f"funding:{reference}", amount, currency,
                     [(source, -amount), (prefunding, amount)], memo=f"deposit {reference}"[:200])


def _payout_key(kind: TransferKind, payout: Payout) -> str:
    return f"{kind.value}:payout:{payout.id}:{payout.attempt}"


def reserve(session: Session, payout: Payout, on_success=None) -> LedgerTransfer | None:
    """Earmark the payout's amount on the pre-funding balance, or None if it would overdraw it.

    The reservation's rows, and whatever `on_success` adds, are written first in
    a savepoint; then one conditional UPDATE both checks the available balance
    and takes the amount, so two reservations can never both take the last funds.
    Nothing but the commit follows it: the shared row is held for the shortest time.
    """
    apply_deferred(session)  # this transaction's own earlier movements count
    prefunding = account(session, AccountKind.PREFUNDING, payout.currency)
    payable = account(session, AccountKind.PARTNER_PAYABLE, payout.currency, payout.partner_id)
    savepoint = session.begin_nested()
    transfer = _transfer(session, TransferKind.RESERVATION, _payout_key(TransferKind.RESERVATION, payout),
                         payout.amount, payout.currency,
                         [(prefunding, -payout.amount), (payable, payout.amount)],
                         pending=True, payout_id=payout.id, memo=f"claim {payout.claim_id}",
                         cached=frozenset({prefunding.id, payable.id}))
    if on_success is not None:
        on_success()
    session.flush()
    taken = session.execute(
        sa.update(LedgerAccount)
        .where(LedgerAccount.id == prefunding.id,
               LedgerAccount.posted - LedgerAccount.pending_debits >= payout.amount)
        .values(pending_debits=LedgerAccount.pending_debits + payout.amount)
        .returning(LedgerAccount.id).execution_options(synchronize_session=False)).first()
    if taken is None:
        savepoint.rollback()
        events = session.info.get("outbox_events")
        if events:  # events written in the savepoint are gone with it
            session.info["outbox_events"] = [e for e in events if e in session]
        return None
    savepoint.commit()
    _defer(session, payable, payout.amount, pending=True)
    return transfer


def open_reservation(session: Session, payout: Payout) -> LedgerTransfer | None:
    """The reservation of the payout's current attempt, if no post or void resolved it yet."""
    resolution = aliased(LedgerTransfer)
    query = (sa.select(LedgerTransfer)
             .where(LedgerTransfer.key == _payout_key(TransferKind.RESERVATION, payout))
             .where(~sa.exists().where(resolution.pending_id == LedgerTransfer.id)))
    return session.scalars(query).one_or_none()


def settle(session: Session, payout: Payout) -> None:
    """The provider paid: post the reservation and discharge the partner's payable."""
    reservation = open_reservation(session, payout)
    if reservation is None:
        raise LookupError(f"payout {payout.id} has no open reservation to post")
    legs = [(entry.account, entry.amount) for entry in reservation.entries]
    for leg_account, leg_amount in legs:
        _defer(session, leg_account, leg_amount, pending=False, release=True)
    _transfer(session, TransferKind.POST, _payout_key(TransferKind.POST, payout), payout.amount,
              payout.currency, legs, resolves=reservation, payout_id=payout.id)
    payable = account(session, AccountKind.PARTNER_PAYABLE, payout.currency, payout.partner_id)
    paid = account(session, AccountKind.PAID, payout.currency)
    _transfer(session, TransferKind.SETTLEMENT, _payout_key(TransferKind.SETTLEMENT, payout),
              payout.amount, payout.currency, [(payable, -payout.amount), (paid, payout.amount)],
              payout_id=payout.id, memo=payout.reference)


def void(session: Session, payout: Payout, reason: str | None = None) -> bool:
    """The attempt failed: release its reservation. False if there was none open."""
    reservation = open_reservation(session, payout)
    if reservation is None:
        return False
    for entry in reservation.entries:
        _defer(session, entry.account, entry.amount, pending=False, release=True)
    session.add(LedgerTransfer(key=_payout_key(TransferKind.VOID, payout), kind=TransferKind.VOID,
                               pending_id=reservation.id, payout_id=payout.id, amount=payout.amount,
                               currency=payout.currency, memo=(reason or "")[:200] or None))
    session.flush()
    return True


def record_return(session: Session, payout: Payout, reason: str | None = None) -> LedgerTransfer:
    """A paid payout came back: a compensating transfer from `paid` to the pre-funding balance."""
    paid = account(session, AccountKind.PAID, payout.currency)
    prefunding = account(session, AccountKind.PREFUNDING, payout.currency)
    return _transfer(session, TransferKind.RETURN, _payout_key(TransferKind.RETURN, payout),
                     payout.amount, payout.currency, [(prefunding, payout.amount), (paid, -payout.amount)],
                     payout_id=payout.id, memo=(reason or "returned")[:200])


@dataclass
class CurrencyBalance:
    currency: str
    prefunding_posted: int
    prefunding_pending: int
    prefunding_available: int
    partner_payable: int
    paid: int
    funded: int


def balances(session: Session) -> list[CurrencyBalance]:
    """Per currency: the pre-funding balance, what is reserved, owed and paid (from the cache)."""
    rows = session.execute(
        sa.select(LedgerAccount.currency, LedgerAccount.kind,
                  sa.func.sum(LedgerAccount.posted), sa.func.sum(LedgerAccount.pending_debits),
                  sa.func.sum(LedgerAccount.pending_credits))
        .group_by(LedgerAccount.currency, LedgerAccount.kind)
    ).all()
    by_currency: dict[str, dict] = {}
    for currency, kind, posted, pending_debits, pending_credits in rows:
        by_currency.setdefault(currency, {})[kind] = (int(posted or 0), int(pending_debits or 0),
                                                      int(pending_credits or 0))
    result = []
    for currency in sorted(by_currency):
        kinds = by_currency[currency]
        pre = kinds.get(AccountKind.PREFUNDING, (0, 0, 0))
        payable = kinds.get(AccountKind.PARTNER_PAYABLE, (0, 0, 0))
        result.append(CurrencyBalance(
            currency=currency, prefunding_posted=pre[0], prefunding_pending=pre[1],
            prefunding_available=pre[0] - pre[1], partner_payable=payable[0] + payable[2],
            paid=kinds.get(AccountKind.PAID, (0, 0, 0))[0],
            funded=-kinds.get(AccountKind.FUNDING_SOURCE, (0, 0, 0))[0]))
    return result
