"""The double-entry ledger: accounts, immutable transfers, two-phase pending transfers.

Every movement is a transfer whose entries sum to zero (credit positive). A
payout's money moves in two phases, as in TigerBeetle:

  approval   reservation (pending)  prefunding -X        partner_payable +X
  accepted   handover (pending)     partner_payable -X   in_transit +X
  paid       post of each           (the same entries, posted)
             settlement             in_transit -X        paid +X
  failed     void of each           (no entries: the pending transfers lapse)
  returned   return                 paid -X              prefunding +X   (compensating)

"Accepted" is the provider taking the payout (or the bank file being written);
a `paid` that arrives first hands over and settles in one go. Pending debits
count against the pre-funding balance, which therefore never goes negative.

Only the pre-funding account caches its posted and pending totals, because
reservations must check them; the cache is written in the same transaction
as the entries and `flask ledger check` proves it equal to them. Every other
balance is summed from the entries when asked for (balances()): a cached
partner, in-transit or paid total would be one more row that every payout
updates and so queues on. Every function here runs inside the caller's
unit of work and takes it; what a unit plans is kept on its LedgerBatch and
written by the unit's commit, before anything else.

The pre-funding row is the serialisation point, so it is locked last and
held for as short a time as possible: a reservation writes all of its rows
first and then one conditional UPDATE checks and takes the funds; nothing
but the commit follows it. If the funds look short, the UPDATE changes
nothing and FundsShort asks the caller to redo the use case with the row
locked from the start (payouts.reserving()). A reservation is planned
(plan_reservations()) and its funds taken (take_funds()) in two steps, so that
the caller records the payouts' new status in between. Other changes to the cached
totals (posts, voids, returns, deposits) are collected during the
transaction and applied just before it commits.

Transfers, too, are collected and written together (write_planned(): two
INSERTs however many there are, one statement on PostgreSQL) just before
the commit or before anything here reads them, so that settling a provider's
batch of 50 payouts is a handful of statements, not 50 times a dozen.
Accounts and open pending transfers met in a transaction are remembered for
its length (preload_open() fetches a batch's at once).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache, lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from app.db import ONE_STATEMENT_PARAMETERS, utcnow, values_parameters, values_sql
from app.payments.locking import insert_if_absent, lock_all, lock_one
from app.payments.models import (AccountKind, LedgerAccount, LedgerEntry, LedgerTransfer, Payout,
                                 TransferKind)
from app.uow import UnitOfWork

PENDING_KINDS = (TransferKind.RESERVATION, TransferKind.HANDOVER)
CACHED_KIND = AccountKind.PREFUNDING
# What ledger_transfers.key holds.
KEY_LENGTH = LedgerTransfer.__table__.c.key.type.length


@dataclass
class LedgerBatch:
    """What one unit of work has planned and met in the ledger; its commit writes it first."""

    planned: list[PlannedTransfer] = field(default_factory=list)  # transfers to write
    accounts: dict[str, LedgerAccount] = field(default_factory=dict)  # accounts by key
    # Pending transfers by key: open, or None once resolved (or never made).
    open: dict[str, LedgerTransfer | PlannedTransfer | None] = field(default_factory=dict)
    # Cached-balance changes by account id: [posted, pending debits, pending credits].
    deltas: dict[int, list[int]] = field(default_factory=dict)

    def write(self, uow: UnitOfWork) -> None:
        write_planned(uow)
        apply_deferred(uow)


def _batch(uow: UnitOfWork) -> LedgerBatch:
    return uow.batch(LedgerBatch)


@dataclass(eq=False)
class PlannedTransfer:
    """A transfer decided in this unit of work, written with the others by write_planned()."""

    uow: UnitOfWork
    key: str
    kind: TransferKind
    row: dict
    legs: list[tuple[LedgerAccount, int]]
    pending: bool
    written_id: int | None = field(default=None)

    @property
    def id(self) -> int:
        if self.written_id is None:
            write_planned(self.uow)
        return self.written_id


class FundsShort(Exception):
    """An optimistic reservation found too little money; redo the use case with the row locked."""


def account_key(kind: AccountKind, currency: str, partner_id: int | None = None) -> str:
    if kind is AccountKind.PARTNER_PAYABLE:
        return f"{kind.value}:{partner_id}:{currency}"
    return f"{kind.value}:{currency}"


def account(uow: UnitOfWork, kind: AccountKind, currency: str, partner_id: int | None = None) -> LedgerAccount:
    """The account, created on first use (safely when two transactions race to create it)."""
    key = account_key(kind, currency, partner_id)
    known = _batch(uow).accounts
    if key in known:
        return known[key]
    found = uow.session.scalars(sa.select(LedgerAccount).where(LedgerAccount.key == key)).one_or_none()
    if found is None:
        insert_if_absent(uow.session, LedgerAccount.__table__,
                         {"key": key, "kind": kind.value, "partner_id": partner_id, "currency": currency,
                          "posted": 0, "pending_debits": 0, "pending_credits": 0},
                         index_elements=["key"])
        found = uow.session.scalars(sa.select(LedgerAccount).where(LedgerAccount.key == key)).one()
    known[key] = found
    return found


def preload_accounts(uow: UnitOfWork, keys: list[str]) -> None:
    """Fetch the existing accounts among these keys in one statement (account() creates the rest)."""
    known = _batch(uow).accounts
    missing = sorted(set(keys) - set(known))
    if missing:
        with uow.session.no_autoflush:  # account rows are never pending in the session
            known.update((found.key, found) for found in uow.session.scalars(_ACCOUNTS_BY_KEY, {"keys": missing}))


def lock_prefundings(uow: UnitOfWork, currencies: list[str]) -> None:
    """Lock the pre-funding accounts of several currencies, in id order (as reserve_all updates them)."""
    ids = sorted(account(uow, AccountKind.PREFUNDING, currency).id for currency in set(currencies))
    lock_all(uow.session, sa.select(LedgerAccount).where(LedgerAccount.id.in_(ids)).order_by(LedgerAccount.id))


def lock_prefunding(uow: UnitOfWork, currency: str) -> LedgerAccount:
    """The pre-funding account of a currency, locked: the serialisation point of reservations."""
    account(uow, AccountKind.PREFUNDING, currency)
    key = account_key(AccountKind.PREFUNDING, currency)
    return lock_one(uow.session, sa.select(LedgerAccount).where(LedgerAccount.key == key))


def _transfer(uow: UnitOfWork, kind: TransferKind, key: str, amount: int, currency: str,
              legs: list[tuple[LedgerAccount, int]], *, pending: bool = False,
              resolves: LedgerTransfer | PlannedTransfer | None = None, payout_id: int | None = None,
              memo: str | None = None, cached: frozenset[int] = frozenset()) -> PlannedTransfer:
    """Plan a transfer and its entries; `cached` names accounts whose cache the caller moves itself."""
    if sum(amount for _, amount in legs) != 0:
        raise ValueError("a transfer's entries must sum to zero")
    for leg_account, leg_amount in legs:
        if leg_account.currency != currency:
            raise ValueError("an entry's account must be in the transfer's currency")
        if leg_account.id not in cached:
            _defer(uow, leg_account, leg_amount, pending=pending)
    planned = PlannedTransfer(uow=uow, key=key, kind=kind, legs=legs, pending=pending, row={
        "key": key, "kind": kind, "amount": amount, "currency": currency, "memo": memo, "payout_id": payout_id,
        "pending_id": resolves.id if resolves is not None else None})
    _batch(uow).planned.append(planned)
    opened = _batch(uow).open
    if pending:
        opened[key] = planned
    if resolves is not None:
        opened[resolves.key] = None
    return planned


# The statements of every reservation, built once (building them cost about as much as running them).
_INSERT_TRANSFERS = sa.insert(LedgerTransfer.__table__).returning(LedgerTransfer.__table__.c.id,
                                                                  sort_by_parameter_order=True)
_INSERT_ENTRIES = sa.insert(LedgerEntry.__table__)
_ACCOUNTS_BY_KEY = sa.select(LedgerAccount).where(LedgerAccount.key.in_(sa.bindparam("keys", expanding=True)))


def write_planned(uow: UnitOfWork) -> None:
    """Write the transfers planned so far and their entries: one INSERT for each table."""
    batch = _batch(uow)
    planned, batch.planned = batch.planned, []
    if not planned:
        return
    uow.session.flush()  # the payouts they name
    # Core rows on the session's connection: none of the ORM's bulk-insert bookkeeping.
    connection = uow.session.connection()
    if connection.dialect.name == "postgresql" and _write_in_one(connection, planned):
        return
    ids = connection.execute(_INSERT_TRANSFERS, [p.row for p in planned]).scalars().all()
    entries = []
    for transfer, transfer_id in zip(planned, ids):
        transfer.written_id = transfer_id
        entries.extend({"transfer_id": transfer_id, "account_id": leg_account.id, "amount": leg_amount,
                        "currency": transfer.row["currency"], "pending": transfer.pending}
                       for leg_account, leg_amount in transfer.legs)
    if entries:
        connection.execute(_INSERT_ENTRIES, entries)


_TRANSFER_COLUMNS = ("key", "kind", "amount", "currency", "memo", "payout_id", "pending_id", "created_at")
_LEG_COLUMNS = ("key", "account_id", "amount", "currency", "pending")  # an entry, its transfer by key


@lru_cache(maxsize=64)
def _transfers_with_entries(transfers: int, legs: int) -> sa.TextClause:
    """write_planned()'s rows in one statement on PostgreSQL: the transfers inserted by a data-modifying
    CTE, their entries from it (joined by key, inserted in the legs' order), the transfers' ids and keys
    returned. Text (app.db.values_sql), kept per shape."""
    transfer, entry = LedgerTransfer.__table__, LedgerEntry.__table__
    transfer_rows, transfer_parameters = values_sql(
        {name: transfer.c[name].type for name in _TRANSFER_COLUMNS}, "t", transfers)
    leg_rows, leg_parameters = values_sql(
        {"key": transfer.c.key.type, **{name: entry.c[name].type for name in _LEG_COLUMNS[1:]}}, "l", legs,
        ordinal=True)
    return sa.text(
        f"WITH transfers AS (INSERT INTO ledger_transfers ({', '.join(_TRANSFER_COLUMNS)}) {transfer_rows} "
        "RETURNING id, key), "
        f"entries AS (INSERT INTO ledger_entries (transfer_id, {', '.join(_LEG_COLUMNS[1:])}) "
        f"SELECT transfers.id, {', '.join('legs.' + name for name in _LEG_COLUMNS[1:])} "
        f"FROM ({leg_rows}) AS legs ({', '.join(_LEG_COLUMNS)}, ordinal) JOIN transfers ON transfers.key = legs.key "
        "ORDER BY legs.ordinal) "
        "SELECT id, key FROM transfers").bindparams(*transfer_parameters, *leg_parameters)


def _write_in_one(connection: sa.Connection, planned: list[PlannedTransfer]) -> bool:
    """write_planned() in one statement (_transfers_with_entries) if its rows fit one; False if not."""
    legs = [{"key": transfer.key, "account_id": leg_account.id, "amount": leg_amount,
             "currency": transfer.row["currency"], "pending": transfer.pending}
            for transfer in planned for leg_account, leg_amount in transfer.legs]
    if not legs or (len(planned) * len(_TRANSFER_COLUMNS) + len(legs) * len(_LEG_COLUMNS)
                    > ONE_STATEMENT_PARAMETERS):
        return False
    written = {key: transfer_id for transfer_id, key in connection.execute(
        _transfers_with_entries(len(planned), len(legs)),
        {**values_parameters("t", [{**transfer.row, "created_at": utcnow()} for transfer in planned]),
         **values_parameters("l", legs)})}
    for transfer in planned:
        transfer.written_id = written[transfer.key]
    return True


def _defer(uow: UnitOfWork, account: LedgerAccount, amount: int, *, pending: bool,
           release: bool = False) -> None:
    """Note how one entry moves a cached balance; applied by apply_deferred(). Uncached: nothing."""
    if account.kind is not CACHED_KIND:
        return
    deltas = _batch(uow).deltas
    delta = deltas.setdefault(account.id, [0, 0, 0])
    if pending or release:
        sign = -1 if release else 1
        if amount < 0:
            delta[1] += sign * -amount
        else:
            delta[2] += sign * amount
    else:
        delta[0] += amount


def apply_deferred(uow: UnitOfWork) -> None:
    """Write the collected balance changes, by account id (a fixed order: no deadlock)."""
    batch = _batch(uow)
    deltas, batch.deltas = batch.deltas, {}
    if not deltas:
        return
    for account_id, (posted, pending_debits, pending_credits) in sorted(deltas.items()):
        if posted or pending_debits or pending_credits:
            uow.session.execute(sa.update(LedgerAccount).where(LedgerAccount.id == account_id).values(
                posted=LedgerAccount.posted + posted,
                pending_debits=LedgerAccount.pending_debits + pending_debits,
                pending_credits=LedgerAccount.pending_credits + pending_credits,
            ).execution_options(synchronize_session=False))


def record_funding(uow: UnitOfWork, reference: str, amount: int, currency: str) -> PlannedTransfer:
    """Money in: from the vendor's bank to the pre-funding balance (posted at once)."""
    source = account(uow, AccountKind.FUNDING_SOURCE, currency)
    prefunding = lock_prefunding(uow, currency)
    return _transfer(uow, TransferKind.FUNDING, funding_key(reference), amount, currency,
                     [(source, -amount), (prefunding, amount)], memo=f"deposit {reference}"[:200])


def funding_key(reference: str) -> str:
    """The transfer key of a deposit. A bank reference may be longer than the key column leaves
    room for (140 characters against 120); such a one is keyed by its digest, which stays as unique."""
    key = f"funding:{reference}"
    if len(key) <= KEY_LENGTH:
        return key
    return "funding:sha256:" + hashlib.sha256(reference.encode()).hexdigest()


def _payout_key(kind: TransferKind, payout: Payout, of: TransferKind | None = None) -> str:
    """Deterministic per business fact; a post or void of a handover names what it resolves."""
    prefix = f"{kind.value}:{of.value}" if of is TransferKind.HANDOVER else kind.value
    return f"{prefix}:payout:{payout.id}:{payout.attempt}"


def available(uow: UnitOfWork, currency: str) -> int:
    """What the pre-funding balance can still pay out, this unit's own movements counted.

    Read under the caller's lock (lock_prefunding()) when the answer decides a reservation.
    """
    apply_deferred(uow)
    prefunding = account(uow, AccountKind.PREFUNDING, currency)
    return uow.session.scalar(sa.select(LedgerAccount.posted - LedgerAccount.pending_debits)
                              .where(LedgerAccount.id == prefunding.id))


@dataclass
class Reservation:
    """Planned reservations of some payouts and what they take from each pre-funding account."""

    transfers: list[PlannedTransfer]
    taking: dict[int, int]  # pre-funding account id -> amount


def plan_reservations(uow: UnitOfWork, payouts: list[Payout]) -> Reservation:
    """Plan the transfers that earmark every payout's amount; take_funds() then takes the money."""
    apply_deferred(uow)  # this unit's own earlier movements count
    preload_accounts(uow, [key for payout in payouts for key in (
        account_key(AccountKind.PREFUNDING, payout.currency),
        account_key(AccountKind.PARTNER_PAYABLE, payout.currency, payout.partner_id))])
    reservation = Reservation(transfers=[], taking={})
    for payout in payouts:
        prefunding = account(uow, AccountKind.PREFUNDING, payout.currency)
        payable = account(uow, AccountKind.PARTNER_PAYABLE, payout.currency, payout.partner_id)
        reservation.transfers.append(_transfer(
            uow, TransferKind.RESERVATION, _payout_key(TransferKind.RESERVATION, payout), payout.amount,
            payout.currency, [(prefunding, -payout.amount), (payable, payout.amount)], pending=True,
            payout_id=payout.id, memo=f"claim {payout.claim_id}", cached=frozenset({prefunding.id})))
        reservation.taking[prefunding.id] = reservation.taking.get(prefunding.id, 0) + payout.amount
    return reservation


# Take an amount from a pre-funding account if it has that much available.
_TAKE = (sa.update(LedgerAccount.__table__)
         .where(LedgerAccount.id == sa.bindparam("account_id"),
                LedgerAccount.posted - LedgerAccount.pending_debits >= sa.bindparam("amount"))
         .values(pending_debits=LedgerAccount.pending_debits + sa.bindparam("amount"))
         .returning(LedgerAccount.id))


def take_funds(uow: UnitOfWork, reservation: Reservation, *, locked: bool) -> None:
    """Write the planned rows, then take the money: one conditional UPDATE per currency, all or none.

    The UPDATE both checks the available balance and takes the amounts, so two
    reservations can never both take the last funds. It must be the unit's last
    statement before the commit (so the pre-funding row is held only for the
    commit); when it finds too little money it raises FundsShort and the caller
    rolls back and tries again locked, having checked available() itself.
    """
    write_planned(uow)
    uow.write_records()  # the audit and outbox rows too: nothing but the commit may follow the UPDATE
    connection = uow.session.connection()
    for prefunding_id, amount in sorted(reservation.taking.items()):
        taken = connection.execute(_TAKE, {"account_id": prefunding_id, "amount": amount}).first()
        if taken is None:
            if locked:  # read under the lock a moment ago: only a bug gets here
                raise RuntimeError(f"pre-funding account {prefunding_id} changed under its lock")
            raise FundsShort(str(prefunding_id))


def _open(uow: UnitOfWork, kind: TransferKind, payout: Payout) -> LedgerTransfer | PlannedTransfer | None:
    """The payout's current pending transfer of this kind, if no post or void resolved it yet."""
    key = _payout_key(kind, payout)
    known = _batch(uow).open
    if key not in known:
        preload_open(uow, [payout])
    return known[key]


def preload_open(uow: UnitOfWork, payouts: list[Payout]) -> None:
    """Fetch the open pending transfers of these payouts' current attempts, in one statement."""
    known = _batch(uow).open
    keys = [k for payout in payouts for k in (_payout_key(kind, payout) for kind in PENDING_KINDS) if k not in known]
    if not keys:
        return
    write_planned(uow)
    resolution = aliased(LedgerTransfer)
    query = (sa.select(LedgerTransfer)
             .where(LedgerTransfer.key.in_(keys))
             .where(~sa.exists().where(resolution.pending_id == LedgerTransfer.id))
             .options(selectinload(LedgerTransfer.entries).joinedload(LedgerEntry.account)))
    found = {transfer.key: transfer for transfer in uow.session.scalars(query)}
    for key in keys:
        known[key] = found.get(key)


def _legs(transfer: LedgerTransfer | PlannedTransfer) -> list[tuple[LedgerAccount, int]]:
    if isinstance(transfer, PlannedTransfer):
        return list(transfer.legs)
    return [(entry.account, entry.amount) for entry in transfer.entries]


def open_reservation(uow: UnitOfWork, payout: Payout) -> LedgerTransfer | PlannedTransfer | None:
    """The reservation of the payout's current attempt, if no post or void resolved it yet."""
    return _open(uow, TransferKind.RESERVATION, payout)


def hand_over(uow: UnitOfWork, payout: Payout) -> PlannedTransfer:
    """The provider accepted the payout: its money moves, pending, from payable to in transit."""
    if open_reservation(uow, payout) is None:
        raise LookupError(f"payout {payout.id} has no open reservation to hand over")
    payable = account(uow, AccountKind.PARTNER_PAYABLE, payout.currency, payout.partner_id)
    in_transit = account(uow, AccountKind.IN_TRANSIT, payout.currency)
    return _transfer(uow, TransferKind.HANDOVER, _payout_key(TransferKind.HANDOVER, payout),
                     payout.amount, payout.currency, [(payable, -payout.amount), (in_transit, payout.amount)],
                     pending=True, payout_id=payout.id, memo=payout.reference)


def _post(uow: UnitOfWork, pending: LedgerTransfer | PlannedTransfer, payout: Payout) -> None:
    legs = _legs(pending)
    for leg_account, leg_amount in legs:
        _defer(uow, leg_account, leg_amount, pending=False, release=True)
    _transfer(uow, TransferKind.POST, _payout_key(TransferKind.POST, payout, of=pending.kind),
              payout.amount, payout.currency, legs, resolves=pending, payout_id=payout.id)


def settle(uow: UnitOfWork, payout: Payout) -> None:
    """The provider paid: post the reservation and the handover, and move in transit to paid."""
    reservation = open_reservation(uow, payout)
    if reservation is None:
        raise LookupError(f"payout {payout.id} has no open reservation to post")
    handover = _open(uow, TransferKind.HANDOVER, payout) or hand_over(uow, payout)
    _post(uow, reservation, payout)
    _post(uow, handover, payout)
    in_transit = account(uow, AccountKind.IN_TRANSIT, payout.currency)
    paid = account(uow, AccountKind.PAID, payout.currency)
    _transfer(uow, TransferKind.SETTLEMENT, _payout_key(TransferKind.SETTLEMENT, payout),
              payout.amount, payout.currency, [(in_transit, -payout.amount), (paid, payout.amount)],
              payout_id=payout.id, memo=payout.reference)


def void(uow: UnitOfWork, payout: Payout, reason: str | None = None) -> bool:
    """The attempt failed: release its handover and reservation. False if neither was open."""
    voided = False
    for kind in (TransferKind.HANDOVER, TransferKind.RESERVATION):
        pending = _open(uow, kind, payout)
        if pending is None:
            continue
        for leg_account, leg_amount in _legs(pending):
            _defer(uow, leg_account, leg_amount, pending=False, release=True)
        _transfer(uow, TransferKind.VOID, _payout_key(TransferKind.VOID, payout, of=kind), payout.amount,
                  payout.currency, [], resolves=pending, payout_id=payout.id, memo=(reason or "")[:200] or None)
        voided = True
    return voided


def record_return(uow: UnitOfWork, payout: Payout, reason: str | None = None) -> PlannedTransfer:
    """A paid payout came back: a compensating transfer from `paid` to the pre-funding balance."""
    paid = account(uow, AccountKind.PAID, payout.currency)
    prefunding = account(uow, AccountKind.PREFUNDING, payout.currency)
    return _transfer(uow, TransferKind.RETURN, _payout_key(TransferKind.RETURN, payout),
                     payout.amount, payout.currency, [(prefunding, payout.amount), (paid, -payout.amount)],
                     payout_id=payout.id, memo=(reason or "returned")[:200])


# The two derived statements below are built once, on first use: statements are immutable, and
# building these cost more than running them (the ledger check and the balances use them on each call).
@cache
def open_pending_ids() -> sa.Select:
    """Ids of pending transfers that no post or void has resolved yet."""
    resolution = aliased(LedgerTransfer)
    return (sa.select(LedgerTransfer.id)
            .where(LedgerTransfer.kind.in_(PENDING_KINDS))
            .where(~sa.exists().where(resolution.pending_id == LedgerTransfer.id)))


@cache
def derived_totals() -> sa.Subquery:
    """Per account, from its entries: posted balance, open pending debits, open pending credits."""
    is_open = LedgerEntry.transfer_id.in_(open_pending_ids())
    posted = sa.func.coalesce(sa.func.sum(sa.case((LedgerEntry.pending.is_(False), LedgerEntry.amount),
                                                  else_=0)), 0)
    pending_debits = sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(LedgerEntry.pending.is_(True), LedgerEntry.amount < 0, is_open), -LedgerEntry.amount),
        else_=0)), 0)
    pending_credits = sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(LedgerEntry.pending.is_(True), LedgerEntry.amount > 0, is_open), LedgerEntry.amount),
        else_=0)), 0)
    return (sa.select(LedgerEntry.account_id.label("account_id"), posted.label("posted"),
                      pending_debits.label("pending_debits"), pending_credits.label("pending_credits"))
            .group_by(LedgerEntry.account_id).subquery())


@dataclass
class CurrencyBalance:
    currency: str
    prefunding_posted: int
    prefunding_pending: int
    prefunding_available: int
    partner_payable: int
    in_transit: int
    paid: int
    funded: int


def balances(uow: UnitOfWork) -> list[CurrencyBalance]:
    """Per currency: the pre-funding balance, what is reserved, owed, in transit and paid.

    Summed from the entries in one statement (one snapshot), so the figures agree
    with each other; `flask ledger check` proves the pre-funding cache equal to them.
    """
    write_planned(uow)
    totals = derived_totals()
    rows = uow.session.execute(
        sa.select(LedgerAccount.currency, LedgerAccount.kind, sa.func.sum(totals.c.posted),
                  sa.func.sum(totals.c.pending_debits), sa.func.sum(totals.c.pending_credits))
        .outerjoin(totals, totals.c.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.currency, LedgerAccount.kind)
    ).all()
    by_currency: dict[str, dict] = {}
    for currency, kind, posted, pending_debits, pending_credits in rows:
        by_currency.setdefault(currency, {})[kind] = (int(posted or 0), int(pending_debits or 0),
                                                      int(pending_credits or 0))

    def net(kinds: dict, kind: AccountKind) -> int:
        posted, pending_debits, pending_credits = kinds.get(kind, (0, 0, 0))
        return posted + pending_credits - pending_debits

    result = []
    for currency in sorted(by_currency):
        kinds = by_currency[currency]
        pre = kinds.get(AccountKind.PREFUNDING, (0, 0, 0))
        result.append(CurrencyBalance(
            currency=currency, prefunding_posted=pre[0], prefunding_pending=pre[1],
            prefunding_available=pre[0] - pre[1], partner_payable=net(kinds, AccountKind.PARTNER_PAYABLE),
            in_transit=net(kinds, AccountKind.IN_TRANSIT), paid=net(kinds, AccountKind.PAID),
            funded=-net(kinds, AccountKind.FUNDING_SOURCE)))
    return result
