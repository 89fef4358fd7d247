"""Rebate programmes and their quarterly periods (the programmes team)."""
from __future__ import annotations

from datetime import date
import sqlalchemy as sa

from app import access, quarters
from app.accounts.models import User
from app.audit.services import record
from app.clock import now
from app.errors import Conflict, InvalidInput, NotFound, RuleViolation, refuse_days_out_of_range
from app.payments.money import MAX_AMOUNT, is_currency
from app.programmes.models import ProgrammePeriod, RebateProgramme, RebateTier
from app.uow import unit_of_work

# <80 %: nothing, 80-100 %: 2 %, from 100 %: 4 % (basis points).
DEFAULT_TIERS = ((0, 0), (8000, 200), (10000, 400))


def create_programme(actor: User, name: str, currency: str, baseline_target: int,
                     tiers: list[tuple[int, int]] | None = None) -> RebateProgramme:
    """A programme with its baseline target (minor units) and tiers (threshold bp, rate bp)."""
    access.require(actor, "programme.manage")
    tiers = sorted(tiers or DEFAULT_TIERS)
    _check_programme(name, currency, baseline_target, tiers)
    with unit_of_work() as uow:
        if uow.session.scalar(sa.select(RebateProgramme.id).where(RebateProgramme.name == name.strip())):
            raise Conflict(f"A programme named {name.strip()!r} exists already.", code="programme_exists")
        programme = RebateProgramme(name=name.strip(), currency=currency, baseline_target=baseline_target,
                                    created_by_id=actor.id)
        uow.session.add(programme)
        uow.session.flush()
        uow.session.add_all(RebateTier(programme_id=programme.id, from_bp=t, rate_bp=r) for t, r in tiers)
        uow.session.flush()
        record(actor, "rebate_programme", programme.id, "programme.created",
               after={"name": programme.name, "currency": currency, "baseline_target": baseline_target,
                      "tiers": [list(t) for t in tiers]})
        return programme


def _check_programme(name: str, currency: str, baseline: int, tiers: list[tuple[int, int]]) -> None:
    problems: dict[str, list[str]] = {}
    if not name.strip():
        problems["name"] = ["A name is needed."]
    if not is_currency(currency):
        problems["currency"] = ["Not an ISO 4217 currency code (e.g. USD, EUR)."]
    if not 0 < baseline <= MAX_AMOUNT:
        problems["baseline_target"] = ["A positive amount in minor units."]
    thresholds = [t for t, _ in tiers]
    if len(set(thresholds)) != len(thresholds) or any(t < 0 or not 0 <= r <= 10000 for t, r in tiers):
        problems["tiers"] = ["Distinct thresholds of at least 0 and rates of 0 to 10000 basis points."]
    if problems:
        raise InvalidInput("The programme is not valid.", details={"fields": problems})


def list_programmes(actor: User) -> list[RebateProgramme]:
    access.require(actor, "programme.read")
    with unit_of_work() as uow:
        return list(uow.session.scalars(sa.select(RebateProgramme).order_by(RebateProgramme.name)))


def get_programme(actor: User, programme_id: int) -> RebateProgramme:
    access.require(actor, "programme.read")
    with unit_of_work() as uow:
        programme = uow.session.get(RebateProgramme, programme_id)
        if programme is None:
            raise NotFound(f"Programme {programme_id} not found.", code="programme_not_found")
        programme.periods, programme.tiers  # loaded while the session is open
        return programme


def add_period(actor: User, programme_id: int, label: str, starts_on: date, ends_on: date) -> ProgrammePeriod:
    """A quarter such as 2026-Q4, with its own first and last days; one the programme has already
    is refused."""
    access.require(actor, "programme.manage")
    refuse_days_out_of_range(starts_on=starts_on, ends_on=ends_on)
    try:
        first, last = quarters.days_of(label)
    except ValueError:
        raise InvalidInput("A period is named like 2026-Q4.",
                           details={"fields": {"label": ["Like 2026-Q4."]}}) from None
    # Closing files the period's claims under its label, and MDF allocations are kept by it.
    wrong = {name: [f"{label} {word} on {day}."] for name, given, word, day in (
        ("starts_on", starts_on, "starts", first), ("ends_on", ends_on, "ends", last)) if given != day}
    if wrong:
        raise InvalidInput(f"{label} runs from {first} to {last}.", details={"fields": wrong})
    with unit_of_work() as uow:
        programme = uow.session.get(RebateProgramme, programme_id, with_for_update=True)
        if programme is None:
            raise NotFound(f"Programme {programme_id} not found.", code="programme_not_found")
        clash = uow.session.scalars(sa.select(ProgrammePeriod).where(
            ProgrammePeriod.programme_id == programme_id,
            sa.or_(ProgrammePeriod.label == label,
                   sa.and_(ProgrammePeriod.starts_on <= ends_on, ProgrammePeriod.ends_on >= starts_on)))).first()
        if clash is not None:
            raise Conflict(f"The period overlaps {clash.label} ({clash.starts_on} to {clash.ends_on}).",
                           code="period_overlaps", details={"period": clash.label})
        period = ProgrammePeriod(programme_id=programme_id, label=label, starts_on=starts_on, ends_on=ends_on)
        uow.session.add(period)
        uow.session.flush()
        record(actor, "rebate_programme", programme_id, "programme.period_added",
               after={"period": label, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
        return period


def current_period(programme: RebateProgramme) -> ProgrammePeriod | None:
    """The period today falls in, else the latest one that started."""
    today = now().date()
    started = [p for p in programme.periods if p.starts_on <= today]
    return next((p for p in started if p.ends_on >= today), started[-1] if started else
                (programme.periods[0] if programme.periods else None))


def open_period_on(session, programme_id: int, day: date) -> ProgrammePeriod:
    """The period of the programme a change dated `day` falls in; a closed one refuses it. The period is
    read as it is now, not as a page that read the programme earlier in the request holds it: a change
    applied with the programme locked (as closing locks it) then sees a close that came first."""
    period = session.scalars(sa.select(ProgrammePeriod).where(
        ProgrammePeriod.programme_id == programme_id, ProgrammePeriod.starts_on <= day,
        ProgrammePeriod.ends_on >= day).execution_options(populate_existing=True)).first()
    if period is None:
        raise RuleViolation(f"{day} is in no period of this programme.", code="date_outside_periods",
                            details={"date": day.isoformat()})
    if period.closed:
        raise RuleViolation(f"{day} is in {period.label}, which is closed: its targets no longer change.",
                            code="period_closed", details={"period": period.label})
    return period
