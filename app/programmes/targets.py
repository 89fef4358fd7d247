"""Partners' targets: the one in force on a day, set per partner, lowered in bulk (alleviation).

A change is a new target version effective from its date; nothing is edited, so the
days before the date keep the old target (the history rule is in attainment.py).
A change dated in a closed period, or outside every period, is refused.
An alleviation is previewed and applied as two operations: apply recomputes the
preview in its own transaction and, given the preview's digest, refuses (409) when
anything changed in between, so what is applied is exactly what was shown.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app import access
from app.accounts.models import Organisation, OrgKind, PartnerTier, User
from app.audit.services import record
from app.errors import Conflict, InvalidInput, NotFound, refuse_days_out_of_range
from app.payments.money import MAX_AMOUNT
from app.programmes.models import ProgrammePeriod, RebateProgramme, TargetAlleviation, TargetVersion
from app.programmes.services import open_period_on
from app.uow import unit_of_work

BP = 10_000


@dataclass(frozen=True)
class Affected:
    partner_id: int
    partner_name: str
    old_target: int
    new_target: int


@dataclass(frozen=True)
class Preview:
    period: ProgrammePeriod
    effective_from: date
    reduction_bp: int
    rows: list[Affected]

    @property
    def digest(self) -> str:
        """What apply must find again: the date, the cut and every partner's old and new target."""
        facts = [self.period.id, self.effective_from.isoformat(), self.reduction_bp,
                 [[r.partner_id, r.old_target, r.new_target] for r in self.rows]]
        return hashlib.sha256(json.dumps(facts).encode()).hexdigest()


def in_force(session, programme: RebateProgramme, period: ProgrammePeriod, day: date,
             partner_ids: list[int] | None = None) -> dict[int, int]:
    """partner id -> the target in force on `day` for those with a version (others: the baseline)."""
    latest = (sa.select(TargetVersion.partner_id, TargetVersion.amount,
                        sa.func.row_number().over(partition_by=TargetVersion.partner_id,
                                                  order_by=(TargetVersion.effective_from.desc(),
                                                            TargetVersion.id.desc())).label("rank"))
              .where(TargetVersion.period_id == period.id, TargetVersion.effective_from <= day))
    if partner_ids is not None:
        latest = latest.where(TargetVersion.partner_id.in_(partner_ids))
    latest = latest.subquery()
    return dict(session.execute(sa.select(latest.c.partner_id, latest.c.amount).where(latest.c.rank == 1)).all())


def _programme(session, programme_id: int, lock: bool = False) -> RebateProgramme:
    programme = session.get(RebateProgramme, programme_id, with_for_update=lock)
    if programme is None:
        raise NotFound(f"Programme {programme_id} not found.", code="programme_not_found")
    return programme


def set_target(actor: User, programme_id: int, partner_id: int, amount: int, effective_from: date) -> TargetVersion:
    """A partner's own target from a date on (the programmes team)."""
    access.require(actor, "programme.manage")
    refuse_days_out_of_range(effective_from=effective_from)
    if not 0 < amount <= MAX_AMOUNT:
        raise InvalidInput("A target is a positive amount in minor units.",
                           details={"fields": {"amount": ["A positive amount in minor units."]}})
    with unit_of_work() as uow:
        programme = _programme(uow.session, programme_id, lock=True)
        partner = access.get_programme_partner(actor, partner_id)
        period = open_period_on(uow.session, programme.id, effective_from)
        old = in_force(uow.session, programme, period, effective_from, [partner.id]).get(
            partner.id, programme.baseline_target)
        version = TargetVersion(period_id=period.id, partner_id=partner.id, amount=amount,
                                effective_from=effective_from, created_by_id=actor.id)
        uow.session.add(version)
        uow.session.flush()
        record(actor, "rebate_programme", programme.id, "programme.target_set",
               before={"partner_id": partner.id, "period": period.label, "target": old},
               after={"partner_id": partner.id, "period": period.label, "target": amount,
                      "effective_from": effective_from.isoformat()})
        return version


def _lowered(old: int, reduction_bp: int) -> int:
    return max(1, (2 * old * (BP - reduction_bp) + BP) // (2 * BP))


def _check_cut(reduction_bp: int, tier: str | None, effective_from: date) -> None:
    refuse_days_out_of_range(effective_from=effective_from)
    problems = {}
    if not 0 < reduction_bp < BP:
        problems["reduction_bp"] = ["Basis points between 1 and 9999 (1000 lowers targets by 10 %)."]
    if tier is not None and tier not in {t.value for t in PartnerTier}:
        problems["tier"] = ["PW or PWP."]
    if problems:
        raise InvalidInput("The alleviation is not valid.", details={"fields": problems})


def _compute(session, actor: User, programme: RebateProgramme, effective_from: date, reduction_bp: int,
             tier: str | None, region: str | None) -> Preview:
    period = open_period_on(session, programme.id, effective_from)
    query = access.programme_partners(actor).where(Organisation.kind == OrgKind.PARTNER)
    if tier:
        query = query.where(Organisation.tier == PartnerTier(tier))
    if region:
        query = query.where(Organisation.region == region)
    partners = list(session.execute(query.with_only_columns(Organisation.id, Organisation.name)
                                    .order_by(Organisation.name, Organisation.id)))
    targets = in_force(session, programme, period, effective_from)
    rows = []
    for partner_id, name in partners:
        old = targets.get(partner_id, programme.baseline_target)
        rows.append(Affected(partner_id, name, old, _lowered(old, reduction_bp)))
    return Preview(period, effective_from, reduction_bp, rows)


def preview_alleviation(actor: User, programme_id: int, effective_from: date, reduction_bp: int,
                        tier: str | None = None, region: str | None = None) -> Preview:
    """Every partner the alleviation would reach, with its target before and after; nothing is written."""
    access.require(actor, "programme.manage")
    _check_cut(reduction_bp, tier, effective_from)
    with unit_of_work() as uow:
        return _compute(uow.session, actor, _programme(uow.session, programme_id), effective_from,
                        reduction_bp, tier, region)


def apply_alleviation(actor: User, programme_id: int, effective_from: date, reduction_bp: int, reason: str,
                      tier: str | None = None, region: str | None = None,
                      preview_digest: str | None = None) -> tuple[TargetAlleviation, Preview]:
    """Lower the targets as previewed: one new target version per partner, audited, partners told."""
    access.require(actor, "programme.manage")
    _check_cut(reduction_bp, tier, effective_from)
    if not reason.strip():
        raise InvalidInput("Say why the targets are lowered.", details={"fields": {"reason": ["Needed."]}})
    with unit_of_work() as uow:
        # The programme row is the lock: two target changes of one programme run one after the other.
        programme = _programme(uow.session, programme_id, lock=True)
        preview = _compute(uow.session, actor, programme, effective_from, reduction_bp, tier, region)
        if preview_digest is not None and preview_digest != preview.digest:
            raise Conflict("The targets changed since the preview; preview again.", code="preview_stale")
        if not preview.rows:
            raise Conflict("No partner matches; nothing to lower.", code="no_partner_affected")
        alleviation = TargetAlleviation(programme_id=programme.id, period_id=preview.period.id,
                                        effective_from=effective_from, reduction_bp=reduction_bp, tier=tier,
                                        region=region, reason=reason.strip(), partners=len(preview.rows),
                                        created_by_id=actor.id)
        uow.session.add(alleviation)
        uow.session.flush()
        uow.session.add_all(TargetVersion(period_id=preview.period.id, partner_id=row.partner_id,
                                          amount=row.new_target, effective_from=effective_from,
                                          alleviation_id=alleviation.id, created_by_id=actor.id)
                            for row in preview.rows)
        record(actor, "rebate_programme", programme.id, "programme.targets_lowered",
               before={"targets": {str(r.partner_id): r.old_target for r in preview.rows}},
               after={"alleviation_id": alleviation.id, "period": preview.period.label,
                      "effective_from": effective_from.isoformat(), "reduction_bp": reduction_bp,
                      "tier": tier, "region": region, "reason": alleviation.reason,
                      "targets": {str(r.partner_id): r.new_target for r in preview.rows}})
        uow.emit("notify.programmes.targets_lowered", {"alleviation_id": alleviation.id})
        return alleviation, preview


def partner_targets(actor: User, programme_id: int, period_id: int) -> tuple[ProgrammePeriod, list[dict]]:
    """Each visible partner's target versions in a period (a partner: its own), oldest first."""
    access.require(actor, "attainment.read")
    with unit_of_work() as uow:
        programme = _programme(uow.session, programme_id)
        period = uow.session.get(ProgrammePeriod, period_id)
        if period is None or period.programme_id != programme.id:
            raise NotFound(f"Period {period_id} not found in programme {programme_id}.", code="period_not_found")
        partners = list(uow.session.execute(access.programme_partners(actor)
                                            .with_only_columns(Organisation.id, Organisation.name)
                                            .order_by(Organisation.name, Organisation.id)))
        return period, target_rows(uow.session, programme, period, partners)


def target_rows(session, programme: RebateProgramme, period: ProgrammePeriod,
                partners: list[tuple[int, str]]) -> list[dict]:
    """partner_targets()' rows inside the caller's unit, for (id, name) of partners the caller sees."""
    versions: dict[int, list[TargetVersion]] = {}
    for version in session.scalars(sa.select(TargetVersion).where(
            TargetVersion.period_id == period.id, TargetVersion.partner_id.in_([p[0] for p in partners]))
            .order_by(TargetVersion.effective_from, TargetVersion.id)):
        versions.setdefault(version.partner_id, []).append(version)
    rows = []
    for partner_id, name in partners:
        history = [{"amount": programme.baseline_target, "effective_from": period.starts_on, "source": "baseline"}]
        history += [{"amount": v.amount, "effective_from": max(v.effective_from, period.starts_on),
                     "source": "alleviation" if v.alleviation_id else "set"} for v in versions.get(partner_id, [])]
        rows.append({"partner": {"id": partner_id, "name": name}, "currency": programme.currency,
                     "target": history[-1]["amount"], "history": history})
    return rows
