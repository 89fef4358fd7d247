"""Period close: every partner's rebate becomes a submitted rebate claim; then bulk approval.

Closing computes each partner's attainment (attainment.py), records it as a settlement
and files the rebate claims through app.payments (which audits them and tells the
programmes team). A closed period's targets no longer change. Closing a closed period
again answers what the first close found and creates nothing: a settlement is unique
per period and partner, and it names its one claim.
"""
from __future__ import annotations

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.audit.services import record
from app.clock import now
from app.errors import Conflict, RuleViolation
from app.payments import claims
from app.payments.models import Claim, ClaimStatus
from app.payments.money import format_amount
from app.programmes.attainment import all_partners, period_of
from app.programmes.models import ProgrammePeriod, RebateProgramme, RebateSettlement
from app.uow import unit_of_work


def close_period(actor: User, programme_id: int, period_id: int) -> tuple[ProgrammePeriod, list[RebateSettlement], bool]:
    """(period, settlements by partner name, whether this call closed it)."""
    access.require(actor, "programme.manage")
    with unit_of_work() as uow:
        uow.session.get(RebateProgramme, programme_id, with_for_update=True)
        programme, period = period_of(uow.session, programme_id, period_id)
        if period.closed:
            return period, settlements_of(uow.session, period), False
        if now().date() <= period.ends_on:
            raise RuleViolation(f"{period.label} runs until {period.ends_on}; it is closed after its last day.",
                                code="period_not_over", details={"ends_on": period.ends_on.isoformat()})
        results = all_partners(uow.session, actor, programme, period)
        paying = [r for r in results if r.rebate > 0]
        filed = claims.file_rebate_claims(uow, actor, [{
            "partner_id": r.partner_id, "amount": r.rebate, "currency": r.currency, "period": period.label,
            "description": (f"{programme.name} {period.label} rebate: sales {format_amount(r.sales, r.currency)}, "
                            f"{r.attainment_bp / 100:.2f} % of target, rate {r.rate_bp / 100:.2f} %")}
            for r in paying])
        claim_of = {claim.partner_id: claim.id for claim in filed}
        uow.session.add_all(RebateSettlement(
            period_id=period.id, partner_id=r.partner_id, sales=r.sales, target=r.target,
            attainment_bp=r.attainment_bp, rate_bp=r.rate_bp, rebate=r.rebate, claim_id=claim_of.get(r.partner_id))
            for r in results)
        period.closed_at, period.closed_by_id = now(), actor.id
        uow.session.flush()
        record(actor, "rebate_programme", programme.id, "programme.period_closed",
               after={"period": period.label, "partners": len(results), "claims": len(filed),
                      "rebates": sum(r.rebate for r in paying), "currency": programme.currency})
        return period, settlements_of(uow.session, period), True


def settlements_of(session, period: ProgrammePeriod) -> list[RebateSettlement]:
    return list(session.scalars(sa.select(RebateSettlement).where(RebateSettlement.period_id == period.id)
                                .order_by(RebateSettlement.partner_id)))


def list_settlements(actor: User, programme_id: int, period_id: int) -> tuple[ProgrammePeriod, list[RebateSettlement]]:
    access.require(actor, "programme.manage")
    with unit_of_work() as uow:
        _programme, period = period_of(uow.session, programme_id, period_id)
        return period, settlements_of(uow.session, period)


def approve_period(actor: User, programme_id: int, period_id: int) -> list[Claim]:
    """Approve every submitted rebate claim of a closed period at once, through the payments approval
    (all or none; the payouts start as each approval commits)."""
    access.require(actor, "programme.manage")
    with unit_of_work() as uow:
        _programme, period = period_of(uow.session, programme_id, period_id)
        if not period.closed:
            raise RuleViolation(f"{period.label} is not closed yet: close it first.", code="period_open")
        waiting = list(uow.session.scalars(
            sa.select(RebateSettlement.claim_id).join(Claim, Claim.id == RebateSettlement.claim_id)
            .where(RebateSettlement.period_id == period.id, Claim.status == ClaimStatus.SUBMITTED)
            .order_by(RebateSettlement.claim_id)))
    if not waiting:
        raise Conflict(f"No rebate claim of {period.label} waits for approval.", code="nothing_to_approve")
    return claims.approve_claims(actor, waiting)
