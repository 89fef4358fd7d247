"""The claim lifecycle: draft -> submitted -> approved (payout) | rejected.

Approval above PAYMENTS_SECOND_APPROVAL_ABOVE takes two different programmes
approvers. An MDF claim is approved only while the partner's allocation for
its period still covers it; the allocation row is locked for that check, so
two claims racing for the last funds cannot both pass.
"""
from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import access
from app.accounts.models import Organisation, OrgKind, User
from app.audit.services import record
from app.clock import now
from app.files import moving
from app.files.uploads import forget
from app.uow import UnitOfWork, unit_of_work
from app.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from app.pagination import DEFAULT_LIMIT, Page, paginate
from app.payments import payouts
from app.payments.locking import for_update, lock_all, lock_one, lock_row
from app.payments.models import (APPROVED_CLAIM_STATUSES, Claim, ClaimAttachment, ClaimStatus,
                                 ClaimType, MdfAllocation)
from app.payments.money import format_amount


def _snapshot(claim: Claim) -> dict[str, Any]:
    return {"status": claim.status.value, "type": claim.type.value, "amount": claim.amount,
            "currency": claim.currency, "period": claim.period}


def _notify(uow: UnitOfWork, claim: Claim, what: str) -> None:
    uow.emit("notify.payments.claim", {"claim_id": claim.id, "event": what})


def _illegal(claim: Claim, action: str) -> Conflict:
    return Conflict(f"Claim {claim.id} is {claim.status.value}; it cannot be {action}.",
                    code="illegal_transition", details={"status": claim.status.value, "action": action})


def _locked(session, claim_id: int) -> Claim:
    return lock_one(session, sa.select(Claim).where(Claim.id == claim_id))


def _description(text: str) -> str:
    described = text.strip()
    if not described:
        raise InvalidInput("Describe the claim.", details={"fields": {"description": ["Describe the claim."]}})
    return described


def create_claim(actor: User, data: dict[str, Any]) -> Claim:
    """A draft claim of the caller's partner organisation."""
    access.require(actor, "claim.file")
    with unit_of_work() as uow:
        claim = Claim(partner_id=access.acting_partner(actor), created_by_id=actor.id,
                      type=ClaimType(data["type"]), amount=data["amount"], currency=data["currency"],
                      period=data["period"], description=_description(data["description"]),
                      status=ClaimStatus.DRAFT)
        uow.session.add(claim)
        uow.session.flush()
        record(actor, "claim", claim.id, "claim.created", after=_snapshot(claim))
        return claim


def change_draft(actor: User, claim_id: int, changes: dict[str, Any]) -> Claim:
    """Change a draft's amount, currency, period or description (its type stays: proofs are MDF's).
    A draft refused at submission (an MDF claim over its allocation) is put right this way."""
    with unit_of_work() as uow:
        claim = _own_draft(uow.session, actor, claim_id, "changed")
        wanted = {**changes, **({"description": _description(changes["description"])}
                                if "description" in changes else {})}
        before = {name: getattr(claim, name) for name in wanted}
        after = {name: value for name, value in wanted.items() if before[name] != value}
        if after:  # a page's form sends every field, changed or not
            for name, value in after.items():
                setattr(claim, name, value)
            record(actor, "claim", claim.id, "claim.changed", before={name: before[name] for name in after},
                   after=after)
        return claim


def file_rebate_claims(uow: UnitOfWork, actor: User, rebates: list[dict[str, Any]]) -> list[Claim]:
    """Rebate claims computed for partners (a programme period's close), submitted at once, in the
    caller's unit of work: each dict gives partner_id, amount, currency, period and description."""
    access.require(actor, "claim.settle")
    filed = [Claim(partner_id=r["partner_id"], created_by_id=actor.id, type=ClaimType.REBATE,
                   amount=r["amount"], currency=r["currency"], period=r["period"],
                   description=r["description"], status=ClaimStatus.SUBMITTED, submitted_at=now())
             for r in rebates]
    uow.session.add_all(filed)
    uow.session.flush()
    for claim in filed:
        record(actor, "claim", claim.id, "claim.submitted", after=_snapshot(claim))
        _notify(uow, claim, "submitted")
    return filed


def file_approved_claim(uow: UnitOfWork, partner: Organisation, approver_id: int, data: dict[str, Any],
                        source: dict[str, Any]):
    """A claim already approved elsewhere (the programme platform), filed and approved at once in
    the caller's unit of work; returns its new payout, flushed, which payouts.start() sends.

    The partner is the caller's to check (known, not suspended). The platform made the
    approval decision, so the second-approval threshold of approve_claim does not apply;
    an MDF claim must still fit the partner's allocation. `source` goes into the audit trail.
    """
    moment = now()
    claim = Claim(partner_id=partner.id, created_by_id=approver_id, type=ClaimType(data["type"]),
                  amount=data["amount"], currency=data["currency"], period=data["period"],
                  description=data["description"].strip(), status=ClaimStatus.PAYOUT_PENDING,
                  submitted_at=moment, approved_by_id=approver_id, approved_at=moment)
    if claim.type is ClaimType.MDF:
        _check_allocation(uow.session, claim, lock=True)
    uow.session.add(claim)
    uow.session.flush()
    payout = payouts.create_payout(uow, claim)
    uow.session.flush()
    record(None, "claim", claim.id, "claim.approved",
           after={**_snapshot(claim), "payout_id": payout.id, **source})
    _notify(uow, claim, "approved")
    return payout


def add_proof(actor: User, claim_id: int, upload, filename: str, content_type: str) -> ClaimAttachment:
    """Attach a proof-of-performance file (already streamed to storage) to a draft MDF claim.

    The bytes are kept before the unit of work and removed again if it fails: keeping
    may call the object store, which never happens with a transaction open.
    """
    with unit_of_work() as uow:
        _proof_allowed(uow.session, actor, claim_id)
    if upload.size == 0:
        raise RuleViolation("The file is empty.", code="empty_file")
    key = current_app.extensions["attachment_storage"].keep(upload)
    try:
        with unit_of_work() as uow:
            claim = _proof_allowed(uow.session, actor, claim_id)
            attachment = ClaimAttachment(claim_id=claim.id, filename=filename[:255], size_bytes=upload.size,
                                         content_type=(content_type or "application/octet-stream")[:100],
                                         sha256=upload.sha256, storage_name=key, uploaded_by_id=actor.id)
            uow.session.add(attachment)
            uow.session.flush()
            record(actor, "claim", claim.id, "claim.proof_added",
                   after={"attachment_id": attachment.id, "sha256": attachment.sha256})
            return attachment
    except BaseException:
        forget(key)
        raise


def kept_files():
    """Every proof's (key, sha256, size), for moving them to another store."""
    return moving.named_files(ClaimAttachment.id, ClaimAttachment.storage_name, ClaimAttachment.sha256,
                              ClaimAttachment.size_bytes)


def _own_draft(session, actor: User, claim_id: int, action: str) -> Claim:
    """The caller's draft, locked; 409 when it is no longer a draft (it cannot be `action` then)."""
    claim = access.get_claim(actor, claim_id)
    access.require(actor, "claim.file")
    claim = _locked(session, claim.id)
    if claim.status is not ClaimStatus.DRAFT:
        raise _illegal(claim, action)
    return claim


def _proof_allowed(session, actor: User, claim_id: int) -> Claim:
    claim = _own_draft(session, actor, claim_id, "given new proof")
    if claim.type is not ClaimType.MDF:
        raise RuleViolation("Only MDF claims carry proof of performance.", code="proof_not_applicable")
    return claim


def submit_claim(actor: User, claim_id: int) -> Claim:
    """Send a draft to the programmes team; an MDF claim needs proof and allocation left."""
    with unit_of_work() as uow:
        claim = _own_draft(uow.session, actor, claim_id, "submitted")
        if claim.type is ClaimType.MDF:
            if not claim.attachments:
                raise RuleViolation("An MDF claim needs at least one proof-of-performance file.",
                                    code="proof_required")
            _check_allocation(uow.session, claim, lock=False)
        before = _snapshot(claim)
        claim.status = ClaimStatus.SUBMITTED
        claim.submitted_at = now()
        record(actor, "claim", claim.id, "claim.submitted", before=before, after=_snapshot(claim))
        _notify(uow, claim, "submitted")
        return claim


def approve_claim(actor: User, claim_id: int) -> Claim:
    """Approve; the payout is created in this same transaction and starts after commit.

    Above the second-approval threshold the first approval is recorded and the
    claim waits for a different approver.
    """
    return payouts.reserving(lambda optimistic: _approve(actor, claim_id, optimistic))


_CLAIM_ID = sa.bindparam("claim_id", type_=sa.Integer(), required=True)


@functools.cache
def _claim_to_approve(scope: sa.ColumnElement[bool]) -> sa.Select:
    """The first statement of an approval for one kind of user (access.parameterised_claim_scope),
    built once: building it cost a tenth of the approval."""
    return for_update(sa.select(Claim).where(scope, Claim.id == _CLAIM_ID).add_columns(payouts.queued(Claim.currency)))


def _approve(actor: User, claim_id: int, optimistic: bool) -> Claim:
    with unit_of_work() as uow:
        # The claim, locked, and whether payouts of its currency wait for funds (payouts.nobody_waiting()
        # asked in the same statement): an approval queues behind them rather than try its luck.
        scope, parameters = access.parameterised_claim_scope(actor)
        found = lock_row(uow.session, _claim_to_approve(scope), {**parameters, _CLAIM_ID.key: claim_id})
        if found is None:
            raise NotFound(f"Claim {claim_id} not found.", code="claim_not_found")
        claim, waiting = found
        access.require(actor, "claim.decide")
        if claim.type is not ClaimType.MDF:
            # Only MDF claims carry proof (add_proof refuses the others): the answer, which lists
            # the claim's proofs, need not ask for them.
            set_committed_value(claim, "attachments", [])
        payout = _decide(uow, actor, claim)
        _approved(uow, actor, [payout] if payout else [], optimistic and not waiting)
        return claim


def approve_claims(actor: User, claim_ids: list[int]) -> list[Claim]:
    """Approve many submitted claims at once (a quarter's rebates), each under approve_claim's rules.

    All or none: if any one cannot be approved, nothing changes and the
    RuleViolation lists every refused claim with its reason.
    """
    access.require(actor, "claim.decide")
    return payouts.reserving(lambda optimistic: _approve_many(actor, claim_ids, optimistic))


def _approve_many(actor: User, claim_ids: list[int], optimistic: bool) -> list[Claim]:
    with unit_of_work() as uow:
        found = {claim.id: claim for claim in lock_all(
            uow.session, access.visible_claims(actor).where(Claim.id.in_(claim_ids)).order_by(Claim.id)
            .options(selectinload(Claim.attachments)))}
        # The allocations too are locked in one fixed order, whatever order the claims
        # were named in, so that two bulk approvals cannot deadlock on them.
        for partner_id, period, currency in sorted({(claim.partner_id, claim.period, claim.currency)
                                                    for claim in found.values() if claim.type is ClaimType.MDF}):
            lock_one(uow.session, sa.select(MdfAllocation).where(MdfAllocation.partner_id == partner_id,
                                                             MdfAllocation.period == period,
                                                             MdfAllocation.currency == currency))
        refused, new_payouts = [], []
        for claim_id in claim_ids:
            claim = found.get(claim_id)
            try:
                if claim is None:
                    raise NotFound(f"Claim {claim_id} not found.", code="claim_not_found")
                payout = _decide(uow, actor, claim)
            except DomainError as exc:
                refused.append({"claim_id": claim_id, "code": exc.code, "message": exc.message})
                continue
            if payout is not None:
                new_payouts.append(payout)
        if refused:
            raise RuleViolation(f"{len(refused)} of the {len(claim_ids)} claims cannot be approved; "
                                "none was.", code="claims_not_approved", details={"refused": refused})
        _approved(uow, actor, new_payouts,
                  optimistic and bool(new_payouts) and payouts.nobody_waiting(uow, new_payouts))
        return [found[claim_id] for claim_id in claim_ids]


def _approved(uow: UnitOfWork, actor: User, new_payouts: list, optimistic: bool) -> None:
    """Audit the approvals that created these payouts, then start them (after one flush for all);
    optimistic only if no payout of their currencies waits for funds (the caller asked)."""
    if not new_payouts:
        return
    uow.session.flush()
    for payout in new_payouts:
        record(actor, "claim", payout.claim_id, "claim.approved",
               before={**_snapshot(payout.claim), "status": ClaimStatus.SUBMITTED.value},
               after={**_snapshot(payout.claim), "payout_id": payout.id})
    payouts.start(uow, new_payouts, optimistic=optimistic)


def _decide(uow: UnitOfWork, actor: User, claim: Claim):
    """Approve one locked claim in the caller's transaction: its new payout (audited by
    _approved()), or None when the claim now waits for a second approver. Raises the
    DomainError that refuses it."""
    if claim.status is not ClaimStatus.SUBMITTED:
        raise _illegal(claim, "approved")
    before = _snapshot(claim)
    needs_two = claim.amount > current_app.config["PAYMENTS_SECOND_APPROVAL_ABOVE"]
    if needs_two and claim.first_approved_by_id is None:
        claim.first_approved_by_id, claim.first_approved_at = actor.id, now()
        record(actor, "claim", claim.id, "claim.first_approval", before=before,
               after={**_snapshot(claim), "first_approved_by": actor.id})
        _notify(uow, claim, "first_approval")
        return None
    if needs_two and claim.first_approved_by_id == actor.id:
        raise RuleViolation("This claim needs a second approval by a different approver.",
                            code="second_approver_required",
                            details={"first_approved_by": actor.id})
    if claim.type is ClaimType.MDF:
        _check_allocation(uow.session, claim, lock=True)
    claim.approved_by_id, claim.approved_at = actor.id, now()
    claim.status = ClaimStatus.PAYOUT_PENDING
    _notify(uow, claim, "approved")
    return payouts.create_payout(uow, claim)


def reject_claim(actor: User, claim_id: int, reason: str) -> Claim:
    """Refuse a submitted claim, with the reason the partner will read."""
    with unit_of_work() as uow:
        claim = access.get_claim(actor, claim_id)
        access.require(actor, "claim.decide")
        claim = _locked(uow.session, claim.id)
        if claim.status is not ClaimStatus.SUBMITTED:
            raise _illegal(claim, "rejected")
        before = _snapshot(claim)
        claim.status = ClaimStatus.REJECTED
        claim.rejected_by_id, claim.rejected_at, claim.rejection_reason = actor.id, now(), reason.strip()
        record(actor, "claim", claim.id, "claim.rejected", before=before,
               after={**_snapshot(claim), "reason": claim.rejection_reason})
        _notify(uow, claim, "rejected")
        return claim


def mdf_used(session, partner_id: int, period: str, currency: str) -> int:
    """What approved MDF claims have taken from an allocation."""
    query = (sa.select(sa.func.coalesce(sa.func.sum(Claim.amount), 0))
             .where(Claim.partner_id == partner_id, Claim.type == ClaimType.MDF, Claim.period == period,
                    Claim.currency == currency, Claim.status.in_(list(APPROVED_CLAIM_STATUSES))))
    return int(session.scalar(query))


def _check_allocation(session, claim: Claim, *, lock: bool) -> None:
    query = sa.select(MdfAllocation).where(MdfAllocation.partner_id == claim.partner_id,
                                           MdfAllocation.period == claim.period,
                                           MdfAllocation.currency == claim.currency)
    allocation = lock_one(session, query) if lock else session.scalars(query).one_or_none()
    if allocation is None:
        raise RuleViolation(f"No MDF allocation for {claim.period} in {claim.currency}.",
                            code="no_mdf_allocation",
                            details={"period": claim.period, "currency": claim.currency})
    remaining = allocation.amount - mdf_used(session, claim.partner_id, claim.period, claim.currency)
    if claim.amount > remaining:
        raise RuleViolation(
            f"The claim exceeds the remaining MDF allocation ({format_amount(max(remaining, 0), claim.currency)}).",
            code="mdf_allocation_exceeded",
            details={"remaining": max(remaining, 0), "amount": claim.amount, "currency": claim.currency})


def set_allocation(actor: User, partner_id: int, period: str, currency: str, amount: int) -> MdfAllocation:
    """Create or change a partner's MDF allocation; it may not drop below what is already approved."""
    access.require(actor, "mdf.manage")
    with unit_of_work() as uow:
        partner = uow.session.get(Organisation, partner_id)
        if partner is None or partner.kind is not OrgKind.PARTNER:
            raise NotFound(f"Partner {partner_id} not found.", code="partner_not_found")
        query = sa.select(MdfAllocation).where(MdfAllocation.partner_id == partner_id,
                                               MdfAllocation.period == period,
                                               MdfAllocation.currency == currency)
        allocation = lock_one(uow.session, query)
        used = mdf_used(uow.session, partner_id, period, currency)
        if amount < used:
            raise RuleViolation("An allocation cannot drop below what approved claims already use.",
                                code="allocation_below_usage", details={"used": used})
        before = {"amount": allocation.amount} if allocation else None
        if allocation is None:
            allocation = MdfAllocation(partner_id=partner_id, period=period, currency=currency, amount=amount)
            uow.session.add(allocation)
        allocation.amount = amount
        uow.session.flush()
        record(actor, "mdf_allocation", allocation.id, "mdf_allocation.set", before=before,
               after={"partner_id": partner_id, "period": period, "currency": currency, "amount": amount})
        return allocation


def allocation_partners(actor: User) -> list[Organisation]:
    """The partner organisations an allocation can be set for, by name."""
    access.require(actor, "mdf.manage")
    with unit_of_work() as uow:
        return list(uow.session.scalars(sa.select(Organisation).where(Organisation.kind == OrgKind.PARTNER)
                                        .order_by(Organisation.name, Organisation.id)))


def list_allocations(actor: User, partner_id: int | None = None) -> list[tuple[MdfAllocation, int]]:
    """Allocations with what each has used; a partner sees only its own."""
    access.require(actor, "claim.read")
    with unit_of_work() as uow:
        query = access.visible_allocations(actor, partner_id).order_by(MdfAllocation.period.desc(), MdfAllocation.id)
        return [(a, mdf_used(uow.session, a.partner_id, a.period, a.currency)) for a in uow.session.scalars(query)]


def list_claims(actor: User, *, status: str | None = None, type: str | None = None,
                limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[Claim]:
    """Claims the caller may see, newest first."""
    access.require(actor, "claim.read")
    query = access.visible_claims(actor)
    if status:
        query = query.where(Claim.status == ClaimStatus(status))
    if type:
        query = query.where(Claim.type == ClaimType(type))
    with unit_of_work() as uow:
        return paginate(uow.session, query, Claim.id, limit, cursor)


def get_claim(actor: User, claim_id: int) -> Claim:
    """The claim with its payout, read in one statement: read apart, a page drawn while the payout was
    being paid could show the payout paid and the claim still waiting for it."""
    with unit_of_work():
        claim = access.get_claim(actor, claim_id, options=(sa.orm.joinedload(Claim.payout),))
        access.require(actor, "claim.read")
        return claim
