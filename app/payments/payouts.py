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

from app import access
from app.accounts.models import User
from app.audit.services import record
from app.clock import now
from app.db import transaction
from app.errors import Conflict
from app.extensions import db
from app.outbox.services import emit
from app.pagination import DEFAULT_LIMIT, Page, paginate
from app.payments import ledger, payees
from app.payments.locking import insert_if_absent, lock_all, lock_one
from app.payments.models import Claim, ClaimStatus, Payout, PayoutStatus, ProviderEvent
from app.payments.providers import (PayoutInstruction, ProviderRejected, ProviderResult, WebhookEvent,
                                    get_provider)

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
REFERENCE = re.compile(r"^PO(\d{10})(?:-(\d{1,10}))?$")
MAX_ID = 2**31 - 1  # the integer primary keys
OPEN = (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT)


def _set_status(payout: Payout, status: PayoutStatus, actor: User | None = None, **audit) -> None:
    before = payout.status.value if payout.status else None
    payout.status = status
    payout.claim.status = CLAIM_STATUS[status]
    record(actor, "payout", payout.id, f"payout.{status.value}",
           before={"status": before}, after={"status": status.value, "attempt": payout.attempt, **audit})
    if status in (PayoutStatus.PAID, PayoutStatus.FAILED, PayoutStatus.RETURNED, PayoutStatus.AWAITING_FUNDS):
        emit("notify.payments.payout", {"payout_id": payout.id, "status": status.value})


def _lock(session, payout_id: int) -> Payout | None:
    return lock_one(session, sa.select(Payout).where(Payout.id == payout_id))


def create_payout(session, claim: Claim) -> Payout:
    """The payout of a claim being approved, in the approval's transaction; start() sends it."""
    payout = Payout(claim_id=claim.id, partner_id=claim.partner_id, amount=claim.amount,
                    currency=claim.currency, status=PayoutStatus.PENDING,
                    provider=current_app.config["PAYMENTS_PROVIDER"], attempt=1, approved_at=claim.approved_at)
    session.add(payout)
    session.flush()
    payout.claim = claim
    record(None, "payout", payout.id, "payout.created", after={"claim_id": claim.id, "amount": claim.amount,
                                                                "currency": claim.currency})
    return payout


def start(session, payout: Payout, *, optimistic: bool) -> None:
    """Reserve the funds (or queue the payout); the last step of an approval, as it touches the
    shared pre-funding balance and so should hold its row for as short a time as possible."""
    _reserve_or_wait(session, payout, optimistic=optimistic)


def reserving(use_case: Callable[[bool], T]) -> T:
    """Run a use case that ends by reserving funds: optimistically first, locked if funds look short.

    use_case(optimistic) runs in its own transaction. Optimistic, its reservation
    is the last statement before the commit, so the pre-funding row is held only
    for the commit; if the money looked short (ledger.FundsShort) everything is
    rolled back and the use case runs again with the row locked, to queue the
    payout as awaiting funds. Nested in a caller's transaction, which could not
    be redone alone, it runs locked at once.
    """
    if db.session.info.get("in_transaction"):
        return use_case(False)
    try:
        return use_case(True)
    except ledger.FundsShort:
        return use_case(False)


def _reserve_or_wait(session, payout: Payout, *, optimistic: bool) -> None:
    """Reserve the funds and start the payout, or queue it behind earlier approvals.

    Optimistic: no lock but the balance row's own, for its one statement and the
    commit (ledger.reserve raises FundsShort when the money is short). Otherwise,
    and whenever payouts are queued, the pre-funding account is locked and the
    question asked under it: a deposit being recorded at that moment either
    finishes first (and its money is seen) or waits for this payout to be queued
    (and releases it).
    """
    if optimistic and not _queued_ahead(session, payout):
        ledger.reserve(session, payout, on_success=lambda: _started(payout), locked=False)
        return
    ledger.lock_prefunding(session, payout.currency)
    if _queued_ahead(session, payout) or ledger.reserve(
            session, payout, on_success=lambda: _started(payout), locked=True) is None:
        _set_status(payout, PayoutStatus.AWAITING_FUNDS)


def _started(payout: Payout) -> None:
    _set_status(payout, PayoutStatus.PENDING)
    emit("payments.execute", {"payout_id": payout.id, "attempt": payout.attempt})


def _queued_ahead(session, payout: Payout) -> bool:
    return bool(session.scalar(sa.select(sa.exists().where(
        Payout.status == PayoutStatus.AWAITING_FUNDS, Payout.currency == payout.currency,
        Payout.id != payout.id,
        sa.or_(Payout.approved_at < payout.approved_at,
               sa.and_(Payout.approved_at == payout.approved_at, Payout.id < payout.id))))))


def release_waiting(session, currency: str) -> list[Payout]:
    """After money came in: start waiting payouts, oldest approval first, while funds last."""
    ledger.lock_prefunding(session, currency)
    waiting = lock_all(session, sa.select(Payout)
                       .where(Payout.status == PayoutStatus.AWAITING_FUNDS, Payout.currency == currency)
                       .order_by(Payout.approved_at, Payout.id))
    released = []
    for payout in waiting:
        if ledger.reserve(session, payout, on_success=lambda p=payout: _started(p), locked=True) is None:
            break  # strictly in order: a large old payout is not overtaken by small new ones
        released.append(payout)
    return released


def execute_payout(payout_id: int) -> str:
    """Send a pending payout to its provider and record the answer. Safe to run any number of times.

    The provider is called between two transactions, holding no lock and no
    connection: the first reads the payout and the payee (an audited read), the
    second locks the payout and applies the answer if it is still the attempt sent.
    ProviderUnavailable (timeout, 5xx) propagates: the payout stays pending and the
    job is retried with the same idempotency key.
    """
    with transaction() as session:
        payout = session.scalars(sa.select(Payout).where(Payout.id == payout_id)
                                 .execution_options(populate_existing=True)).one_or_none()
        if payout is None or payout.status is not PayoutStatus.PENDING:
            return "skipped"
        attempt, provider = payout.attempt, payout.provider
        payee = payees.payee_for_instruction(payout.partner_id, f"payout {payout.reference}")
        instruction = None if payee is None else PayoutInstruction(
            reference=payout.reference, idempotency_key=payout.idempotency_key, amount=payout.amount,
            currency=payout.currency, payee=payee,
            description=f"{payout.claim.type.value} claim {payout.claim_id}")
    if instruction is None:
        result = ProviderResult(status="failed", reason="No bank details on file for this partner.")
    else:
        try:
            result = get_provider(provider).create_payout(instruction)
        except ProviderRejected as exc:
            result = ProviderResult(status="failed", reason=f"Refused by the provider: {exc}")
    with transaction() as session:
        payout = _lock(session, payout_id)
        if payout.status is not PayoutStatus.PENDING or payout.attempt != attempt:
            return "superseded"
        return _apply(session, payout, result.status, result.provider_payout_id, result.reason)


def _apply(session, payout: Payout, status: str, provider_payout_id: str | None, reason: str | None) -> str:
    """Move a locked payout to what the provider reports; returns what happened."""
    if provider_payout_id and not payout.provider_payout_id:
        payout.provider_payout_id = provider_payout_id
    if status == "in_transit":
        if payout.status is PayoutStatus.PENDING:
            ledger.hand_over(session, payout)
            payout.sent_at = now()
            _set_status(payout, PayoutStatus.IN_TRANSIT)
            return "in_transit"
        return "unchanged"
    if status == "failed":
        if payout.status not in OPEN:
            return "ignored"
        ledger.void(session, payout, reason)
        payout.failed_at, payout.failure_reason = now(), reason or "Failed at the provider."
        _set_status(payout, PayoutStatus.FAILED, reason=payout.failure_reason)
        return "failed"
    if status in ("paid", "returned"):
        outcome = "already_paid"
        if payout.status in OPEN:
            payout.sent_at = payout.sent_at or now()
            ledger.settle(session, payout)
            payout.paid_at = now()
            _set_status(payout, PayoutStatus.PAID)
            outcome = "paid"
        if status == "paid":
            return outcome if payout.status is PayoutStatus.PAID else "ignored"
        if payout.status is not PayoutStatus.PAID:
            return "ignored"
        ledger.record_return(session, payout, reason)
        payout.returned_at, payout.return_reason = now(), reason or "Returned by the beneficiary's bank."
        payout.claim.return_reason = payout.return_reason
        _set_status(payout, PayoutStatus.RETURNED, reason=payout.return_reason)
        return "returned"
    raise ValueError(f"unknown provider status {status!r}")


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
    with transaction() as session:
        parsed = parse_reference(event.reference)
        payout_id = parsed[0] if parsed else None
        if payout_id is not None and session.get(Payout, payout_id) is None:
            payout_id = None
        inserted = insert_if_absent(session, ProviderEvent.__table__, {
            "provider": provider_name, "event_id": event.event_id, "type": event.type,
            "payout_id": payout_id, "payload": event.payload, "outcome": "received",
            "received_at": now()}, index_elements=["provider", "event_id"])
        if not inserted:
            return "duplicate"
        if payout_id is None:
            outcome = "unknown_payout"
        else:
            payout = _lock(session, payout_id)
            if parsed[1] != payout.attempt:
                outcome = "stale_attempt"
            else:
                status = event.type.removeprefix("payout.")
                outcome = _apply(session, payout, status, event.provider_payout_id, event.reason)
        session.execute(sa.update(ProviderEvent)
                        .where(ProviderEvent.provider == provider_name, ProviderEvent.event_id == event.event_id)
                        .values(outcome=outcome))
        return outcome


def refresh_payout(payout_id: int) -> str:
    """Ask the provider for an in-transit payout's status (a webhook may have been lost)."""
    with transaction() as session:
        payout = session.get(Payout, payout_id)
        if payout is None or payout.status not in OPEN:
            return "skipped"
        attempt, key = payout.attempt, payout.idempotency_key
        result = get_provider(payout.provider).payout_status(key)
        payout = _lock(session, payout_id)
        if result is None or payout.attempt != attempt or payout.status not in OPEN:
            return "unchanged"
        return _apply(session, payout, result.status, result.provider_payout_id, result.reason)


def record_bank_outcome(payout_id: int, attempt: int, status: str, reason: str | None = None) -> str:
    """What the bank reported for a payout sent by file: paid, failed or returned."""
    with transaction() as session:
        payout = _lock(session, payout_id)
        if payout is None:
            return "unknown_payout"
        if payout.attempt != attempt:
            return "stale_attempt"
        outcome = _apply(session, payout, status, None, reason)
        record(None, "payout", payout.id, "payout.bank_outcome", after={"status": status, "outcome": outcome})
        return outcome


def retry_payout(actor: User, payout_id: int) -> Payout:
    """Programmes send a failed or returned payout again: a new attempt under a new key."""
    return reserving(lambda optimistic: _retry(actor, payout_id, optimistic))


def _retry(actor: User, payout_id: int, optimistic: bool) -> Payout:
    with transaction() as session:
        payout = access.get_payout(actor, payout_id)
        access.require(actor, "payout.retry")
        payout = _lock(session, payout.id)
        if payout.status not in (PayoutStatus.FAILED, PayoutStatus.RETURNED):
            raise Conflict(f"Payout {payout.id} is {payout.status.value}; only a failed or returned "
                           "payout can be retried.", code="illegal_transition",
                           details={"status": payout.status.value})
        payout.attempt += 1
        payout.provider_payout_id = None
        payout.failure_reason = None
        record(actor, "payout", payout.id, "payout.retried", after={"attempt": payout.attempt})
        _reserve_or_wait(session, payout, optimistic=optimistic)
        return payout


def sweep(stalled_after: timedelta, refresh_after: timedelta) -> dict[str, int]:
    """Restart pending payouts nobody is working on and poll long in-transit ones."""
    moment = now()
    with transaction() as session:
        stalled = list(session.scalars(sa.select(Payout.id).where(
            Payout.status == PayoutStatus.PENDING, Payout.updated_at < moment - stalled_after)))
        for payout_id in stalled:
            emit("payments.execute", {"payout_id": payout_id, "attempt": None})
        in_transit = list(session.scalars(sa.select(Payout.id).where(
            Payout.status == PayoutStatus.IN_TRANSIT, Payout.sent_at < moment - refresh_after)))
        for payout_id in in_transit:
            emit("payments.refresh", {"payout_id": payout_id})
    return {"restarted": len(stalled), "polled": len(in_transit)}


def list_payouts(actor: User, *, status: str | None = None, claim_id: int | None = None,
                 limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Payout]:
    access.require(actor, "payout.read")
    query = access.visible_payouts(actor)
    if status:
        query = query.where(Payout.status == PayoutStatus(status))
    if claim_id:
        query = query.where(Payout.claim_id == claim_id)
    with transaction() as session:
        return paginate(session, query, Payout.id, limit, cursor)


def get_payout(actor: User, payout_id: int) -> Payout:
    with transaction():
        payout = access.get_payout(actor, payout_id)
        access.require(actor, "payout.read")
        return payout
