"""Attainment: a partner's sales in a period against its target, the tier reached and the rebate.

The history rule (README, "Partner programme"): a target change applies from its date
on, never backwards. A period's target is therefore prorated by day: each day of the
period carries the target in force on that day, and the period's target is the
day-weighted mean of them, sum(target_i * days_i) / days_in_period, rounded half up to
the minor unit. The days before an alleviation keep the old target's weight, so sales
made before the date are judged against the old target; the segments of a period
(one per target in force) show each part's sales against its share of the target.

Attainment is sales * 10000 // target in basis points (rounded down: a partner reaches
a tier only by really reaching it). The rate is the one of the highest tier whose
threshold the attainment reaches; the rebate is sales * rate // 10000, rounded down.
Only sales in the programme's currency count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby

import sqlalchemy as sa

from app import access
from app.accounts.models import Organisation, User
from app.errors import NotFound
from app.programmes.models import ProgrammePeriod, RebateProgramme, Sale, TargetVersion
from app.uow import unit_of_work

BP = 10_000


@dataclass(frozen=True)
class Segment:
    starts_on: date
    ends_on: date
    target: int  # the partner's target in force on these days
    share: int  # this segment's day-share of it
    sales: int = 0

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    @property
    def attainment_bp(self) -> int:
        return self.sales * BP // self.share if self.share else 0


@dataclass(frozen=True)
class Attainment:
    partner_id: int
    partner_name: str
    currency: str
    sales: int
    target: int
    attainment_bp: int
    rate_bp: int
    rebate: int
    segments: list[Segment] = field(default_factory=list)
    next_tier: tuple[int, int] | None = None  # (threshold bp, rate bp) of the tier above, if any


def timeline(period: ProgrammePeriod, baseline: int, versions: list[TargetVersion]) -> list[Segment]:
    """The period cut where the target in force changes; versions in (effective_from, id) order."""
    in_force: dict[date, int] = {period.starts_on: baseline}
    for version in versions:
        day = max(version.effective_from, period.starts_on)
        if day <= period.ends_on:
            in_force[day] = version.amount  # a later version of the same day wins
    starts = sorted(in_force)
    segments = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else period.ends_on
        days = (end - start).days + 1
        segments.append(Segment(start, end, in_force[start], _rounded(in_force[start] * days, period.days)))
    return segments


def prorated(segments: list[Segment], period_days: int) -> int:
    """sum(target_i * days_i) / period_days, rounded half up."""
    return _rounded(sum(s.target * s.days for s in segments), period_days)


def _rounded(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def rate_for(tiers: list[tuple[int, int]], attainment_bp: int) -> int:
    """The rate of the highest tier (threshold bp, rate bp) the attainment reaches; 0 below all."""
    reached = [rate for threshold, rate in tiers if attainment_bp >= threshold]
    return reached[-1] if reached else 0


def judge(partner_id: int, partner_name: str, programme: RebateProgramme, period: ProgrammePeriod,
          versions: list[TargetVersion], sales: int, tiers: list[tuple[int, int]]) -> Attainment:
    segments = timeline(period, programme.baseline_target, versions)
    target = prorated(segments, period.days)
    attainment_bp = sales * BP // target if target else 0
    rate = rate_for(tiers, attainment_bp)
    above = next(((t, r) for t, r in tiers if t > attainment_bp and r > rate), None)
    return Attainment(partner_id, partner_name, programme.currency, sales, target, attainment_bp, rate,
                      sales * rate // BP, segments, above)


def tiers_of(programme: RebateProgramme) -> list[tuple[int, int]]:
    return [(tier.from_bp, tier.rate_bp) for tier in programme.tiers]


def versions_by_partner(session, period: ProgrammePeriod, partner_ids=None) -> dict[int, list[TargetVersion]]:
    query = sa.select(TargetVersion).where(TargetVersion.period_id == period.id)
    if partner_ids is not None:
        query = query.where(TargetVersion.partner_id.in_(partner_ids))
    rows = session.scalars(query.order_by(TargetVersion.partner_id, TargetVersion.effective_from,
                                          TargetVersion.id))
    return {partner_id: list(group) for partner_id, group in groupby(rows, key=lambda v: v.partner_id)}


def counted_sales(programme: RebateProgramme, period: ProgrammePeriod, starts_on: date, ends_on: date
                  ) -> list[sa.ColumnElement[bool]]:
    """The conditions on Sale of the sales that count in these days of the period. A closed period counts
    those imported by its close, what its settlements were computed from: a sale imported later for another
    programme's open quarter does not move a rebate already claimed (sales never change once imported)."""
    conditions = [Sale.currency == programme.currency, Sale.sold_on >= starts_on, Sale.sold_on <= ends_on]
    if period.closed_at is not None:
        conditions.append(Sale.imported_at <= period.closed_at)
    return conditions


def sales_by_partner(session, programme: RebateProgramme, period: ProgrammePeriod, partner_ids=None) -> dict[int, int]:
    query = (sa.select(Sale.partner_id, sa.func.sum(Sale.amount))
             .where(*counted_sales(programme, period, period.starts_on, period.ends_on)).group_by(Sale.partner_id))
    if partner_ids is not None:
        query = query.where(Sale.partner_id.in_(partner_ids))
    return {partner_id: int(total) for partner_id, total in session.execute(query)}


def _with_segment_sales(session, programme, period: ProgrammePeriod, attainment: Attainment) -> Attainment:
    segments = []
    for segment in attainment.segments:
        total = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Sale.amount), 0)).where(
            Sale.partner_id == attainment.partner_id,
            *counted_sales(programme, period, segment.starts_on, segment.ends_on)))
        segments.append(Segment(segment.starts_on, segment.ends_on, segment.target, segment.share, int(total)))
    return Attainment(**{**attainment.__dict__, "segments": segments})


def period_of(session, programme_id: int, period_id: int) -> tuple[RebateProgramme, ProgrammePeriod]:
    period = session.get(ProgrammePeriod, period_id)
    if period is None or period.programme_id != programme_id:
        raise NotFound(f"Period {period_id} not found in programme {programme_id}.", code="period_not_found")
    return period.programme, period


def all_partners(session, actor: User | None, programme: RebateProgramme, period: ProgrammePeriod,
                 partners: list | None = None) -> list[Attainment]:
    """Every partner's attainment (those the caller may see), by partner name."""
    if partners is None:
        partners = list(session.execute(access.programme_partners(actor)
                                        .with_only_columns(Organisation.id, Organisation.name)
                                        .order_by(Organisation.name)))
    ids = [p.id for p in partners] if len(partners) < 1000 else None
    versions = versions_by_partner(session, period, ids)
    sales = sales_by_partner(session, programme, period, ids)
    tiers = tiers_of(programme)
    return [judge(p.id, p.name, programme, period, versions.get(p.id, []), sales.get(p.id, 0), tiers)
            for p in partners]


def list_attainment(actor: User, programme_id: int, period_id: int) -> tuple[ProgrammePeriod, list[Attainment]]:
    """A period's attainment: every partner's for the programmes team, a partner's own row for it."""
    access.require(actor, "attainment.read")
    with unit_of_work() as uow:
        programme, period = period_of(uow.session, programme_id, period_id)
        return period, all_partners(uow.session, actor, programme, period)


def partner_attainment(actor: User, programme_id: int, period_id: int, partner_id: int
                       ) -> tuple[ProgrammePeriod, Attainment]:
    """One partner's attainment with its segments (another partner's: 404)."""
    access.require(actor, "attainment.read")
    with unit_of_work() as uow:
        partner = access.get_programme_partner(actor, partner_id)
        programme, period = period_of(uow.session, programme_id, period_id)
        return period, attainment_of(uow.session, programme, period, partner)


def attainment_of(session, programme: RebateProgramme, period: ProgrammePeriod, partner: Organisation) -> Attainment:
    """partner_attainment() inside the caller's unit, for a partner the caller is known to see."""
    versions = versions_by_partner(session, period, [partner.id]).get(partner.id, [])
    sales = sales_by_partner(session, programme, period, [partner.id]).get(partner.id, 0)
    found = judge(partner.id, partner.name, programme, period, versions, sales, tiers_of(programme))
    return _with_segment_sales(session, programme, period, found)
