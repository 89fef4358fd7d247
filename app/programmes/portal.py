"""A partner's rebate portal, read in one transaction: the programmes with their periods, the chosen
period's attainment with its segments, and the partner's target history in it."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app import access
from app.accounts.models import Organisation, User
from app.programmes.attainment import Attainment, attainment_of
from app.programmes.models import ProgrammePeriod, RebateProgramme
from app.programmes.services import current_period
from app.programmes.targets import target_rows
from app.uow import unit_of_work


@dataclass
class PortalPage:
    partner: Organisation
    programme: RebateProgramme | None = None  # none yet: the portal says so
    others: list[tuple[RebateProgramme, ProgrammePeriod]] = field(default_factory=list)  # at their current period
    period: ProgrammePeriod | None = None
    found: Attainment | None = None
    history: list[dict] = field(default_factory=list)


def portal_page(actor: User, partner_id: int, programme_id: int | None, period_id: int | None) -> PortalPage:
    """The partner's portal in the programme asked for (else the first by name), at the period asked for
    (else the current one); another partner's than the caller may see: 404."""
    access.require(actor, "attainment.read")
    access.require(actor, "programme.read")
    with unit_of_work() as uow:
        page = PortalPage(access.get_programme_partner(actor, partner_id))
        programmes = list(uow.session.scalars(sa.select(RebateProgramme).options(
            selectinload(RebateProgramme.periods), selectinload(RebateProgramme.tiers))
            .order_by(RebateProgramme.name)))
        page.programme = next((p for p in programmes if p.id == programme_id), programmes[0] if programmes else None)
        if page.programme is None:
            return page
        page.others = [(other, period) for other in programmes
                       if other.id != page.programme.id and (period := current_period(other)) is not None]
        page.period = (next((p for p in page.programme.periods if p.id == period_id), None)
                       or current_period(page.programme))
        if page.period is None:
            return page
        page.found = attainment_of(uow.session, page.programme, page.period, page.partner)
        [targets] = target_rows(uow.session, page.programme, page.period, [(page.partner.id, page.partner.name)])
        page.history = targets["history"]
        return page
