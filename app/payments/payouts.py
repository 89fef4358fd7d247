"""Payouts: created with the approval, executed by a job, settled by the provider.

Exactly one payout per approved claim:
- the payout row (and so its id) is committed with the approval, before any
  provider call, and payouts.claim_id is unique;
- the provider call carries the payout's idempotency key, so a retried job,
  a second worker or a worker killed after the call asks for the same payment;
- every state change happens under the payout's row lock after re-reading it;
- a webhook is applied once (unique provider event id) and only to the
  attempt it names; ledger transfers have unique keys besides.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Callable, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app import access
from app.bounds import MAX_ID
from app.accounts.models import User
from app.audit.services import record
from app.clock import now
from app.errors import Conflict, NotFound
from app.pagination import DEFAULT_LIMIT, Page, paginate
from app.payments import ledger, live, payees
from app.payments.locking import insert_absent, lock_all, lock_one
from app.payments.models import Claim, ClaimStatus, PayeeAccount, Payout, PayoutStatus, ProviderEvent
from app.payments.providers import (PayoutInstruction, ProviderResult, ProviderUnavailable, WebhookEvent,
                                    create_payouts, get_provider)
from app.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)
T = TypeVar("T")

CLAIM_STATUS = {
    PayoutStatus.PENDING: ClaimStatus.PAYOUT_PENDING,
    PayoutStatus.AWAITING_FUNDS: ClaimStatus.PAYOUT_PENDING,
    PayoutStatus.IN_TRANSIT: ClaimStatus.PAYOUT_PENDING,
    PayoutStatus.PAID: ClaimStatus.PAID,
    PayoutStatus.FAILED: ClaimStatus.FAILED,
    PayoutStatus.RETURNED: ClaimStatus.RETURNED,
}
REFERENCE = re.compile(r"PO([0-9]{10})(?:-([0-9]{1,10}))?\Z")
OPEN = (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT)
# The provider's status events this service applies; others are stored and acknowledged.
WEBHOOK_TYPES = ("payout.paid", "payout.failed", "payout.returned")


def _set_status(uow: UnitOfWork, payout: Payout, status: PayoutStatus, actor: User | None = None, **audit) -> None:
    before = payout.status.value if payout.status else None
    # Only a change is assigned: an object given its own value again would still be flushed
    # (no UPDATE, but the flush's whole bookkeeping), as a just-created payout would be here.
    if payout.status != status:
        payout.status = status
    if payout.claim.status != CLAIM_STATUS[status]:
        payout.claim.status = CLAIM_STATUS[status]
    record(actor, "payout", payout.id, f"payout.{status.value}",
           before={"status": before}, after={"status": status.value, "attempt": payout.attempt, **audit})
    if before != status.value:
        live.announce(uow, payout)
    if status in (PayoutStatus.PAID, PayoutStatus.FAILED, PayoutStatus.RETURNED, PayoutStatus.AWAITING_FUNDS):
        # The attempt and reason as they are now: the event may be handled after a retry has moved on.
        uow.emit("notify.payments.payout", {"payout_id": payout.id, "status": status.value, "attempt": payout.attempt,
                                            "reason": audit.get("reason")})


def _lock(session, payout_id: int) -> Payout | None:
    return lock_one(session, sa.select(Payout).where(Payout.id == payout_id))


def create_payout(uow: UnitOfWork, claim: Claim) -> Payout:
    """The payout of a claim being approved, added to the approval's transaction (not yet
    flushed, so that a batch of approvals inserts its payouts together); start() sends it."""
    payout = Payout(claim_id=claim.id, partner_id=claim.partner_id, amount=claim.amount,
                    currency=claim.currency, status=PayoutStatus.PENDING,
                    provider=current_app.config["PAYMENTS_PROVIDER"], attempt=1, approved_at=claim.approved_at)
    # Both sides of the new one-to-one, set without loading the claim's (absent) payout first.
    set_committed_value(payout, "claim", claim)
    set_committed_value(claim, "payout", payout)
    uow.session.add(payout)
    return payout


def queued(currency) -> sa.Exists:
    """Some payout of this currency (a value or a column) waits for funds."""
    return sa.exists().where(Payout.status == PayoutStatus.AWAITING_FUNDS, Payout.currency == currency)


def nobody_waiting(uow: UnitOfWork, new_payouts: list[Payout]) -> bool:
    """No payout waits for funds in these new payouts' currencies (asked before they are written)."""
    with uow.session.no_autoflush:
        return not uow.session.scalar(sa.select(sa.exists().where(
            Payout.status == PayoutStatus.AWAITING_FUNDS,
            Payout.currency.in_(sorted({payout.currency for payout in new_payouts})))))


def start(uow: UnitOfWork, new_payouts: list[Payout], *, optimistic: bool) -> None:
    """Reserve the funds of just-approved, flushed payouts (or queue them); the last step of an
    approval, as it touches the shared pre-funding balance and so should hold its row for as
    short a time as possible. Optimistic (the caller found nobody_waiting()), one conditional
    UPDATE per currency takes them all; otherwise each is reserved or queued in turn under the lock."""
    for payout in new_payouts:
        record(None, "payout", payout.id, "payout.created",
               after={"claim_id": payout.claim_id, "amount": payout.amount, "currency": payout.currency})
    if optimistic:
        _reserve(uow, new_payouts, locked=False)
        return
    ledger.lock_prefundings(uow, [payout.currency for payout in new_payouts])
    for payout in sorted(new_payouts, key=lambda p: (p.approved_at, p.id)):
        _reserve_or_wait(uow, payout, optimistic=False)


def reserving(use_case: Callable[[bool], T]) -> T:
    """Run a use case that ends by reserving funds: optimistically first, locked if funds look short.

    use_case(optimistic) opens its own unit of work. Optimistic, its reservation
    is the last statement before the commit, so the pre-funding row is held only
    for the commit; if the money looked short (ledger.FundsShort) everything is
    rolled back and the use case runs again with the row locked, to queue the
    payout as awaiting funds. (Inside a caller's unit, which could not be redone
    alone, reserve locked instead: start(uow, ..., optimistic=False).)
    """
    try:
        return use_case(True)
    except ledger.FundsShort:
        return use_case(False)


def _reserve(uow: UnitOfWork, payouts: list[Payout], *, locked: bool) -> None:
    """Plan the reservations, start the payouts, then take the funds (the unit's last statement)."""
    reservation = ledger.plan_reservations(uow, payouts)
    for payout in payouts:
        _set_status(uow, payout, PayoutStatus.PENDING)
        uow.emit("payments.execute", {"payout_id": payout.id, "attempt": payout.attempt})
    ledger.take_funds(uow, reservation, locked=locked)


def _reserve_or_wait(uow: UnitOfWork, payout: Payout, *, optimistic: bool) -> None:
    """Reserve the funds and start the payout, or queue it behind earlier approvals.

    Optimistic: no lock but the balance row's own, for its one statement and the
    commit (take_funds raises FundsShort when the money is short). Otherwise,
    and whenever payouts are queued, the pre-funding account is locked and the
    question asked under it: a deposit being recorded at that moment either
    finishes first (and its money is seen) or waits for this payout to be queued
    (and releases it).
    """
    if optimistic and not _queued_ahead(uow, payout):
        _reserve(uow, [payout], locked=False)
        return
    ledger.lock_prefunding(uow, payout.currency)
    if _queued_ahead(uow, payout) or ledger.available(uow, payout.currency) < payout.amount:
        _set_status(uow, payout, PayoutStatus.AWAITING_FUNDS)
    else:
        _reserve(uow, [payout], locked=True)


def _queued_ahead(uow: UnitOfWork, payout: Payout) -> bool:
    return bool(uow.session.scalar(sa.select(sa.exists().where(
        Payout.status == PayoutStatus.AWAITING_FUNDS, Payout.currency == payout.currency,
        Payout.id != payout.id,
        sa.or_(Payout.approved_at < payout.approved_at,
               sa.and_(Payout.approved_at == payout.approved_at, Payout.id < payout.id))))))


def release_waiting(uow: UnitOfWork, currency: str) -> list[Payout]:
    """After money came in: start waiting payouts, oldest approval first, while funds last."""
    ledger.lock_prefunding(uow, currency)
    waiting = lock_all(uow.session, sa.select(Payout)
                       .where(Payout.status == PayoutStatus.AWAITING_FUNDS, Payout.currency == currency)
                       .order_by(Payout.approved_at, Payout.id))
    released = []
    for payout in waiting:
        if ledger.available(uow, currency) < payout.amount:
            break  # strictly in order: a large old payout is not overtaken by small new ones
        _reserve(uow, [payout], locked=True)
        released.append(payout)
    return released


def execute_payout(payout_id: int) -> str:
    """Send one pending payout to its provider and record the answer. Safe to run any number of times.

    ProviderUnavailable (timeout, 5xx) propagates: the payout stays pending and the
    job is retried with the same idempotency key.
    """
    outcomes = execute_payouts([payout_id])
    outcome = outcomes.get(payout_id, "skipped")
    if isinstance(outcome, ProviderUnavailable):
        raise outcome
    return outcome


def execute_payouts(payout_ids: list[int]) -> dict[int, str | ProviderUnavailable]:
    """Send pending payouts to their providers, many to a call, and record the answers.

    Returns per payout what happened, or the ProviderUnavailable that leaves its
    outcome unknown (it stays pending, to be asked again under the same key).
    The provider is called between two units of work, with no transaction open
    meanwhile: the first reads the payouts and the payees (an audited read), the
    second locks the payouts and applies each answer if it is still the attempt
    sent. (From the outbox, this runs as an effect after the event's own commit.)
    """
    with unit_of_work() as uow:
        pending = list(uow.session.scalars(
            sa.select(Payout).where(Payout.id.in_(payout_ids), Payout.status == PayoutStatus.PENDING)
            .options(joinedload(Payout.claim)).order_by(Payout.id).execution_options(populate_existing=True)))
        references: dict[int, list[str]] = {}
        for payout in pending:
            references.setdefault(payout.partner_id, []).append(payout.reference)
        found = payees.payees_for_instructions(
            {partner_id: f"payout {', '.join(refs)}" for partner_id, refs in references.items()})
        sent: dict[int, tuple[int, PayoutInstruction | None]] = {}
        by_provider: dict[str, list[PayoutInstruction]] = {}
        for payout in pending:
            payee = found[payout.partner_id]
            instruction = None if payee is None else PayoutInstruction(
                reference=payout.reference, idempotency_key=payout.idempotency_key, amount=payout.amount,
                currency=payout.currency, payee=payee,
                description=f"{payout.claim.type.value} claim {payout.claim_id}")
            sent[payout.id] = (payout.attempt, instruction)
            if instruction is not None:
                by_provider.setdefault(payout.provider, []).append(instruction)
    answers: dict[str, ProviderResult | ProviderUnavailable] = {}
    for provider, instructions in by_provider.items():
        answers.update(create_payouts(get_provider(provider), instructions))
    outcomes: dict[int, str | ProviderUnavailable] = {}
    if not sent:
        return outcomes
    with unit_of_work() as uow:
        locked = lock_all(uow.session, sa.select(Payout).where(Payout.id.in_(list(sent))).order_by(Payout.id))
        ledger.preload_open(uow, locked)
        for payout in locked:
            attempt, instruction = sent[payout.id]
            result = (ProviderResult(status="failed", reason="No bank details on file for this partner.")
                      if instruction is None else answers[instruction.idempotency_key])
            if payout.status is not PayoutStatus.PENDING or payout.attempt != attempt:
                outcomes[payout.id] = "superseded"
            elif isinstance(result, ProviderUnavailable):
                outcomes[payout.id] = result
            else:
                outcomes[payout.id] = _apply(uow, payout, result.status, result.provider_payout_id,
                                             result.reason)
    return outcomes


def _apply(uow, payout: Payout, status: str, provider_payout_id: str | None, reason: str | None) -> str:
    """Move a locked payout to what the provider reports; returns what happened."""
    if provider_payout_id and not payout.provider_payout_id:
        payout.provider_payout_id = provider_payout_id
    if status == "in_transit":
        if payout.status is PayoutStatus.PENDING:
            ledger.hand_over(uow, payout)
            payout.sent_at = now()
            _set_status(uow, payout, PayoutStatus.IN_TRANSIT)
            return "in_transit"
        return "unchanged"
    if status == "failed":
        if payout.status not in OPEN:
            return "ignored"
        ledger.void(uow, payout, reason)
        payout.failed_at, payout.failure_reason = now(), reason or "Failed at the provider."
        _set_status(uow, payout, PayoutStatus.FAILED, reason=payout.failure_reason)
        return "failed"
    if status in ("paid", "returned"):
        outcome = "already_paid"
        if payout.status in OPEN:
            payout.sent_at = payout.sent_at or now()
            ledger.settle(uow, payout)
            payout.paid_at = now()
            _set_status(uow, payout, PayoutStatus.PAID)
            outcome = "paid"
        if status == "paid":
            return outcome if payout.status is PayoutStatus.PAID else "ignored"
        if payout.status is not PayoutStatus.PAID:
            return "ignored"
        ledger.record_return(uow, payout, reason)
        payout.returned_at, payout.return_reason = now(), reason or "Returned by the beneficiary's bank."
        payout.claim.return_reason = payout.return_reason
        _set_status(uow, payout, PayoutStatus.RETURNED, reason=payout.return_reason)
        return "returned"
    raise ValueError(f"unknown provider status {status!r}")


def _another_payment(payout: Payout, provider_payout_id: str | None, amount: int | None = None,
                     currency: str | None = None, provider: str | None = None) -> bool:
    """Whether what the provider says under this payout's reference is about another payment.

    References are unique in one database only: a database restored from a backup, or a staging
    copy on the same provider account, issues them again. Applied, such news would settle or fail
    our payout for a payment that is not its own, so it is kept, logged and left unapplied.
    """
    other = []
    if provider is not None and provider != payout.provider:
        other.append(f"provider {provider}, ours is {payout.provider}")
    if provider_payout_id and payout.provider_payout_id and provider_payout_id != payout.provider_payout_id:
        other.append(f"provider payout {provider_payout_id}, ours is {payout.provider_payout_id}")
    if amount is not None and amount != payout.amount:
        other.append(f"amount {amount}, ours is {payout.amount}")
    if currency is not None and currency != payout.currency:
        other.append(f"currency {currency}, ours is {payout.currency}")
    if other:
        log.warning("provider news under payout %s's reference is about another payment (%s): not applied",
                    payout.reference, "; ".join(other))
    return bool(other)


def parse_reference(reference: str) -> tuple[int, int] | None:
    """(payout id, attempt) from an idempotency key such as PO0000000012-2."""
    match = REFERENCE.match(reference or "")
    if not match:
        return None
    payout_id, attempt = int(match.group(1)), int(match.group(2) or 1)
    if not (0 < payout_id <= MAX_ID and 0 < attempt <= MAX_ID):
        return None  # not an id the database could hold: nobody's payout
    return payout_id, attempt


def apply_webhook(provider_name: str, event: WebhookEvent) -> str:
    """Apply a verified provider event once; a duplicate or a stale attempt changes nothing."""
    return apply_webhooks(provider_name, [event])[0]


def apply_webhooks(provider_name: str, events: list[WebhookEvent]) -> list[str]:
    """Apply a delivery's verified events once each, in one transaction; the outcome of each.

    The events are stored first (a multi-row insert that skips event ids already
    stored, so a redelivery is recognised), the payouts locked in id order (two
    deliveries cannot deadlock), then the new events applied in the order sent.
    """
    with unit_of_work() as uow:
        first_copies = {event.event_id: event for event in reversed(events)}
        targets = {event_id: parse_reference(event.reference) for event_id, event in first_copies.items()}
        wanted = sorted({target[0] for target in targets.values() if target is not None})
        # A payout waiting for funds was never sent in its current attempt, so any event
        # for it is stale: it is not locked, as a deposit releasing it locks the
        # pre-funding balance first and the payout after (the other order would deadlock).
        locked = {payout.id: payout for payout in lock_all(uow.session, sa.select(Payout).where(
            Payout.id.in_(wanted), Payout.status != PayoutStatus.AWAITING_FUNDS).order_by(Payout.id))}
        unlocked = [payout_id for payout_id in wanted if payout_id not in locked]
        waiting = set(uow.session.scalars(sa.select(Payout.id).where(Payout.id.in_(unlocked)))) if unlocked else set()
        ledger.preload_open(uow, list(locked.values()))
        payout_of = {event_id: locked.get(target[0]) if target else None for event_id, target in targets.items()}
        known = {event_id: target[0] for event_id, target in targets.items()
                 if target and (target[0] in locked or target[0] in waiting)}
        received = now()
        new = insert_absent(uow.session, ProviderEvent.__table__, [
            {"provider": provider_name, "event_id": event_id, "type": event.type, "payout_id": known.get(event_id),
             "payload": event.payload, "outcome": "received", "received_at": received}
            for event_id, event in sorted(first_copies.items())],  # in a fixed order: no deadlock
            ["provider", "event_id"], "event_id")
        outcomes = []
        for event in events:
            if event.event_id not in new:
                outcomes.append("duplicate")
                continue
            new.discard(event.event_id)  # a second copy in this delivery is a duplicate too
            payout = payout_of[event.event_id]
            if event.type not in WEBHOOK_TYPES:
                outcome = "ignored_type"  # a kind of event this service does not act on (yet): acknowledged
            elif payout is None:
                outcome = "stale_attempt" if event.event_id in known else "unknown_payout"
            elif targets[event.event_id][1] != payout.attempt:
                outcome = "stale_attempt"
            elif _another_payment(payout, event.provider_payout_id, event.amount, event.currency, provider_name):
                outcome = "mismatch"
            else:
                outcome = _apply(uow, payout, event.type.removeprefix("payout."), event.provider_payout_id,
                                 event.reason)
            outcomes.append(outcome)
        recorded = [{"b_event_id": event.event_id, "b_outcome": outcome}
                    for event, outcome in zip(events, outcomes) if outcome != "duplicate"]
        if recorded:
            table = ProviderEvent.__table__
            uow.session.execute(sa.update(table).where(table.c.provider == provider_name,
                                                   table.c.event_id == sa.bindparam("b_event_id"))
                            .values(outcome=sa.bindparam("b_outcome")), recorded)
        return outcomes


def refresh_payout(payout_id: int) -> str:
    """Ask the provider for an in-transit payout's status (a webhook may have been lost)."""
    with unit_of_work() as uow:
        payout = uow.session.get(Payout, payout_id)
        if payout is None or payout.status not in OPEN:
            return "skipped"
        attempt, key, provider = payout.attempt, payout.idempotency_key, payout.provider
    result = get_provider(provider).payout_status(key)  # between two units: nothing held meanwhile
    with unit_of_work() as uow:
        payout = _lock(uow.session, payout_id)
        if result is None or payout.attempt != attempt or payout.status not in OPEN:
            return "unchanged"
        if _another_payment(payout, result.provider_payout_id, result.amount, result.currency):
            record(None, "payout", payout.id, "payout.provider_mismatch",
                   after={"status": result.status, "provider_payout_id": result.provider_payout_id,
                          "amount": result.amount, "currency": result.currency})
            return "mismatch"
        return _apply(uow, payout, result.status, result.provider_payout_id, result.reason)


def record_bank_outcome(payout_id: int, attempt: int, status: str, reason: str | None = None) -> str:
    """What the bank reported for a payout sent by file: paid, failed or returned."""
    with unit_of_work() as uow:
        payout = _lock(uow.session, payout_id)
        if payout is None:
            return "unknown_payout"
        if payout.attempt != attempt:
            return "stale_attempt"
        outcome = _apply(uow, payout, status, None, reason)
        record(None, "payout", payout.id, "payout.bank_outcome", after={"status": status, "outcome": outcome})
        return outcome


def retry_payout(actor: User, payout_id: int) -> Payout:
    """Programmes send a failed or returned payout again: a new attempt under a new key."""
    return reserving(lambda optimistic: _retry(actor, payout_id, optimistic))


def _retry(actor: User, payout_id: int, optimistic: bool) -> Payout:
    with unit_of_work() as uow:
        payout = access.get_payout(actor, payout_id)
        access.require(actor, "payout.retry")
        payout = _lock(uow.session, payout.id)
        if payout.status not in (PayoutStatus.FAILED, PayoutStatus.RETURNED):
            raise Conflict(f"Payout {payout.id} is {payout.status.value}; only a failed or returned "
                           "payout can be retried.", code="illegal_transition",
                           details={"status": payout.status.value})
        payout.attempt += 1
        payout.provider_payout_id = None
        payout.failure_reason = None
        record(actor, "payout", payout.id, "payout.retried", after={"attempt": payout.attempt})
        _reserve_or_wait(uow, payout, optimistic=optimistic)
        return payout


def sweep(stalled_after: timedelta, refresh_after: timedelta) -> dict[str, int]:
    """Restart pending payouts nobody is working on and poll long in-transit ones."""
    moment = now()
    with unit_of_work() as uow:
        stalled = list(uow.session.scalars(sa.select(Payout.id).where(
            Payout.status == PayoutStatus.PENDING, Payout.updated_at < moment - stalled_after)))
        for payout_id in stalled:
            uow.emit("payments.execute", {"payout_id": payout_id, "attempt": None})
        in_transit = list(uow.session.scalars(sa.select(Payout.id).where(
            Payout.status == PayoutStatus.IN_TRANSIT, Payout.sent_at < moment - refresh_after)))
        for payout_id in in_transit:
            uow.emit("payments.refresh", {"payout_id": payout_id})
    return {"restarted": len(stalled), "polled": len(in_transit)}


def list_payouts(actor: User, *, status: str | None = None, claim_id: int | None = None,
                 limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Payout]:
    access.require(actor, "payout.read")
    query = access.visible_payouts(actor)
    if status:
        query = query.where(Payout.status == PayoutStatus(status))
    if claim_id:
        query = query.where(Payout.claim_id == claim_id)
    with unit_of_work() as uow:
        return paginate(uow.session, query, Payout.id, limit, cursor)


def get_payout(actor: User, payout_id: int) -> Payout:
    with unit_of_work():
        payout = access.get_payout(actor, payout_id)
        access.require(actor, "payout.read")
        return payout


def payout_with_payee(actor: User, payout_id: int) -> tuple[Payout, PayeeAccount | None]:
    """A payout, and the bank account on file for its partner now (masked, an audited read): where the
    payout went, or where it would go if sent again. None when none is on file or the caller may not
    read it."""
    payout = get_payout(actor, payout_id)
    if not access.allowed(actor, "payee.read"):
        return payout, None
    try:
        return payout, payees.get_payee(actor, payout.partner_id)
    except NotFound:
        return payout, None
