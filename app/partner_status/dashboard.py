"""The Partner Performance & Training Dashboard (SPEC §11).

A partner's users see their own organisation's: its level and next review, each requirement of
the level met or not with its deadline (waivers and exceptions shown), each engineer's
certifications with expiry and any extension, trainings, specialisations, and rebate attainment
in each programme's current period (the rebates' own rules, app.programmes.attainment). The
programmes team sees every partner's, filtered by tier, region, level or an unmet requirement.

Every figure of one answer comes from one transaction; on PostgreSQL it is REPEATABLE READ, so
a programme-wide change applied meanwhile shows entirely or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app import access
from app.accounts.models import PARTNER_ROLES, Certification, Organisation, OrgKind, PartnerTier, User
from app.audit.models import AuditEvent
from app.clock import now
from app.errors import InvalidInput, NotFound
from app.pagination import DEFAULT_LIMIT, Page, decode_name_cursor, encode_name_cursor
from app.partner_status.models import (LevelRequirement, PartnerException, PartnerLevel, PartnerStatus,
                                       RequirementWaiver, Specialisation, TrainingCompletion)
from app.partner_status.standing import Holdings, Standing, judge
from app.programmes import attainment
from app.programmes.models import RebateProgramme
from app.programmes.services import current_period
from app.uow import unit_of_work


@dataclass(frozen=True)
class CertificationLine:
    product_family: str
    expires_on: date
    expired: bool
    extended_from: date | None  # the expiry before the first programme-wide extension, if any


@dataclass(frozen=True)
class Training:
    course: str
    completed_on: date


@dataclass(frozen=True)
class Engineer:
    id: int
    name: str
    email: str
    role: str
    certifications: list[CertificationLine]
    trainings: list[Training]


@dataclass(frozen=True)
class SpecialisationLine:
    name: str
    starts_on: date
    ends_on: date
    active: bool


@dataclass(frozen=True)
class Rebate:
    programme_id: int
    programme_name: str
    period_id: int
    period_label: str
    currency: str
    sales: int
    target: int
    attainment_bp: int
    rate_bp: int
    rebate: int


@dataclass(frozen=True)
class PartnerDashboard:
    partner: Organisation
    level: PartnerLevel | None
    valid_through: date | None
    next_review_on: date | None
    requirements: list[Standing]
    rebates: list[Rebate]
    today: date
    engineers: list[Engineer] = field(default_factory=list)
    specialisations: list[SpecialisationLine] = field(default_factory=list)

    def status_of(self, standing: Standing) -> str:
        return standing.status_on(self.today)

    @property
    def requirement_rows(self) -> list[dict]:
        """Each standing with whether it is met and its status today, as the API answers them."""
        return [{**s.__dict__, "met": s.met, "status": s.status_on(self.today)} for s in self.requirements]

    @property
    def unmet(self) -> list[Standing]:
        return [s for s in self.requirements if not s.met]


def _repeatable_read(session) -> None:
    """On PostgreSQL, the rest of this transaction reads one snapshot. Only reads ran before it
    on this session (signing in), so ending that transaction first loses nothing."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite's transactions are serialisable already
    if session.in_transaction():
        if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
            return
        session.commit()
    # SQLAlchemy sets it on the connection as the transaction begins; the pool resets it on return.
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _holdings(session, partner_ids: list[int] | None, day: date) -> dict[int, Holdings]:
    def limited(query, column):
        return query.where(column.in_(partner_ids)) if partner_ids is not None else query

    engineers = sa.and_(User.active.is_(True), User.role.in_(PARTNER_ROLES))
    certified: dict[int, dict[str, int]] = {}
    for partner_id, family, count in session.execute(limited(
            sa.select(User.organisation_id, sa.func.lower(Certification.product_family),
                      sa.func.count(sa.distinct(User.id)))
            .join(User, Certification.user_id == User.id)
            .where(engineers, Certification.expires_on >= day)
            .group_by(User.organisation_id, sa.func.lower(Certification.product_family)), User.organisation_id)):
        certified.setdefault(partner_id, {})[family] = count
    trained: dict[int, dict[str, int]] = {}
    for partner_id, course, count in session.execute(limited(
            sa.select(User.organisation_id, sa.func.lower(TrainingCompletion.course),
                      sa.func.count(sa.distinct(User.id)))
            .join(User, TrainingCompletion.user_id == User.id).where(engineers)
            .group_by(User.organisation_id, sa.func.lower(TrainingCompletion.course)), User.organisation_id)):
        trained.setdefault(partner_id, {})[course] = count
    held: dict[int, set[str]] = {}
    for partner_id, name in session.execute(limited(
            sa.select(Specialisation.partner_id, sa.func.lower(Specialisation.name))
            .where(Specialisation.starts_on <= day, Specialisation.ends_on >= day), Specialisation.partner_id)):
        held.setdefault(partner_id, set()).add(name)
    ids = set(certified) | set(trained) | set(held)
    return {pid: Holdings(certified.get(pid, {}), trained.get(pid, {}), frozenset(held.get(pid, ())))
            for pid in ids}


def _waivers(session) -> dict[int, date]:
    return dict(session.execute(sa.select(RequirementWaiver.requirement_id, sa.func.max(RequirementWaiver.until))
                                .group_by(RequirementWaiver.requirement_id)).all())


def _exceptions(session, partner_ids: list[int] | None) -> dict[tuple[int, int], tuple[date, date]]:
    query = sa.select(PartnerException.partner_id, PartnerException.requirement_id, PartnerException.until,
                      PartnerException.granted_until)
    if partner_ids is not None:
        query = query.where(PartnerException.partner_id.in_(partner_ids))
    return {(p, r): (until, granted) for p, r, until, granted in session.execute(query)}


def _levels(session) -> dict[int, PartnerLevel]:
    levels = session.scalars(sa.select(PartnerLevel).options(selectinload(PartnerLevel.requirements)))
    return {level.id: level for level in levels}


def _standings(level: PartnerLevel | None, holdings: Holdings | None, day: date, waivers, exceptions,
               partner_id: int) -> list[Standing]:
    if level is None:
        return []
    holdings = holdings or Holdings({}, {}, frozenset())
    return [judge(r, holdings, day, waivers.get(r.id), exceptions.get((partner_id, r.id)))
            for r in level.requirements]


def _rebates(session, partners: list[Organisation]) -> dict[int, list[Rebate]]:
    """Each partner's attainment in every programme's current period, by the rebates' rules."""
    found: dict[int, list[Rebate]] = {p.id: [] for p in partners}
    for programme in session.scalars(sa.select(RebateProgramme).order_by(RebateProgramme.name)):
        period = current_period(programme)
        if period is None:
            continue
        for a in attainment.all_partners(session, None, programme, period, partners):
            found[a.partner_id].append(Rebate(programme.id, programme.name, period.id, period.label, a.currency,
                                              a.sales, a.target, a.attainment_bp, a.rate_bp, a.rebate))
    return found


def _engineers(session, partner_id: int, day: date) -> list[Engineer]:
    users = list(session.scalars(sa.select(User).where(User.organisation_id == partner_id, User.active.is_(True),
                                                       User.role.in_(PARTNER_ROLES)).order_by(User.name, User.id)))
    ids = [u.id for u in users]
    certifications: dict[int, list[Certification]] = {}
    for c in session.scalars(sa.select(Certification).where(Certification.user_id.in_(ids))
                             .order_by(Certification.product_family)):
        certifications.setdefault(c.user_id, []).append(c)
    first_expiry: dict[str, date] = {}
    cert_ids = [str(c.id) for cs in certifications.values() for c in cs]
    if cert_ids:
        for entity_id, before in session.execute(
                sa.select(AuditEvent.entity_id, AuditEvent.before)
                .where(AuditEvent.entity_type == "certification", AuditEvent.entity_id.in_(cert_ids),
                       AuditEvent.action == "certification.extended").order_by(AuditEvent.id)):
            if entity_id not in first_expiry and before and before.get("expires_on"):
                first_expiry[entity_id] = date.fromisoformat(before["expires_on"])
    trainings: dict[int, list[Training]] = {}
    for user_id, course, completed_on in session.execute(
            sa.select(TrainingCompletion.user_id, TrainingCompletion.course, TrainingCompletion.completed_on)
            .where(TrainingCompletion.user_id.in_(ids)).order_by(TrainingCompletion.course)):
        trainings.setdefault(user_id, []).append(Training(course, completed_on))
    return [Engineer(u.id, u.name, u.email, u.role.value,
                     [CertificationLine(c.product_family, c.expires_on, c.expires_on < day, first_expiry.get(str(c.id)))
                      for c in certifications.get(u.id, [])], trainings.get(u.id, []))
            for u in users]


def partner_dashboard(actor: User, partner_id: int) -> PartnerDashboard:
    """One partner's dashboard (its own users, or the programmes team); another partner's: 404."""
    access.require(actor, "partner_status.read")
    day = now().date()
    with unit_of_work() as uow:
        session = uow.session
        _repeatable_read(session)
        partner = access.get_programme_partner(actor, partner_id)
        status = session.scalars(sa.select(PartnerStatus).where(PartnerStatus.partner_id == partner.id)
                                 .options(joinedload(PartnerStatus.level)
                                          .selectinload(PartnerLevel.requirements))).one_or_none()
        level = status.level if status is not None else None
        engineers = _engineers(session, partner.id, day)
        specialisations = [SpecialisationLine(s.name, s.starts_on, s.ends_on, s.starts_on <= day <= s.ends_on)
                           for s in session.scalars(sa.select(Specialisation).where(
                               Specialisation.partner_id == partner.id).order_by(Specialisation.name))]
        standings = _standings(level, _holdings_shown(engineers, specialisations), day,
                               _waivers(session), _exceptions(session, [partner.id]), partner.id)
        return PartnerDashboard(partner, level, status.valid_through if status else None,
                                status.next_review_on if status else None, standings,
                                _rebates(session, [partner])[partner.id], day, engineers, specialisations)


def _holdings_shown(engineers: list[Engineer], specialisations: list[SpecialisationLine]) -> Holdings:
    """One partner's holdings from the rows its dashboard shows (the same rule as _holdings)."""
    certified: dict[str, int] = {}
    trained: dict[str, int] = {}
    for engineer in engineers:
        for family in {c.product_family.lower() for c in engineer.certifications if not c.expired}:
            certified[family] = certified.get(family, 0) + 1
        for course in {t.course.lower() for t in engineer.trainings}:
            trained[course] = trained.get(course, 0) + 1
    return Holdings(certified, trained, frozenset(s.name.lower() for s in specialisations if s.active))


def _scope(session, actor: User, tier: str | None, region: str | None, level_id: int | None,
           unmet: int | None) -> tuple[sa.Select, dict[int, PartnerLevel]]:
    """The partners the filters keep (before `unmet`, which is judged row by row), and the levels."""
    if tier is not None and tier not in {t.value for t in PartnerTier}:
        raise InvalidInput("The filter is not valid.", details={"fields": {"tier": ["PW or PWP."]}})
    levels = _levels(session)
    if level_id is not None and level_id not in levels:
        raise NotFound(f"Level {level_id} not found.", code="level_not_found")
    if unmet is not None and session.get(LevelRequirement, unmet) is None:
        raise NotFound(f"Requirement {unmet} not found.", code="requirement_not_found")
    query = access.programme_partners(actor).where(Organisation.kind == OrgKind.PARTNER)
    if tier:
        query = query.where(Organisation.tier == PartnerTier(tier))
    if region:
        query = query.where(Organisation.region == region)
    if level_id is not None or unmet is not None:
        query = query.join(PartnerStatus, PartnerStatus.partner_id == Organisation.id)
        if level_id is not None:
            query = query.where(PartnerStatus.level_id == level_id)
        if unmet is not None:
            query = query.where(PartnerStatus.level_id == session.get(LevelRequirement, unmet).level_id)
    return query, levels


def _rows(session, partners: list[Organisation], levels: dict[int, PartnerLevel], unmet: int | None,
          day: date) -> list[PartnerDashboard]:
    ids = [p.id for p in partners] if len(partners) < 1000 else None
    statuses = {s.partner_id: s for s in session.scalars(
        sa.select(PartnerStatus).where(PartnerStatus.partner_id.in_(ids)) if ids is not None
        else sa.select(PartnerStatus))}
    holdings, waivers, exceptions = _holdings(session, ids, day), _waivers(session), _exceptions(session, ids)
    rebates = _rebates(session, partners)
    rows = []
    for partner in partners:
        status = statuses.get(partner.id)
        level = levels.get(status.level_id) if status else None
        standings = _standings(level, holdings.get(partner.id), day, waivers, exceptions, partner.id)
        if unmet is not None and not any(s.requirement_id == unmet and not s.met for s in standings):
            continue
        rows.append(PartnerDashboard(partner, level, status.valid_through if status else None,
                                     status.next_review_on if status else None, standings,
                                     rebates[partner.id], day))
    return rows


def all_dashboards(actor: User, *, tier: str | None = None, region: str | None = None,
                   level_id: int | None = None, unmet: int | None = None) -> list[PartnerDashboard]:
    """Every visible partner's level, requirements and rebates (a partner: its own), by name;
    `unmet` keeps the partners whose level asks that requirement and who do not meet it.
    The CSV export's rows: every partner the filters keep, however many pages they fill."""
    access.require(actor, "partner_status.read")
    day = now().date()
    with unit_of_work() as uow:
        session = uow.session
        _repeatable_read(session)
        query, levels = _scope(session, actor, tier, region, level_id, unmet)
        partners = list(session.scalars(query.order_by(Organisation.name, Organisation.id)))
        return _rows(session, partners, levels, unmet, day)


def dashboards_page(actor: User, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None,
                    tier: str | None = None, region: str | None = None, level_id: int | None = None,
                    unmet: int | None = None) -> Page[PartnerDashboard]:
    """One page of all_dashboards, by name, after the cursor's partner. `unmet` is judged row by row,
    so partners are read limit+1 first, then in batches twice as large each time (up to 800), until
    the page is full or none are left: a rare unmet requirement costs a few batches, not one per page size."""
    access.require(actor, "partner_status.read")
    after = decode_name_cursor(cursor) if cursor else None
    day = now().date()
    with unit_of_work() as uow:
        session = uow.session
        _repeatable_read(session)
        query, levels = _scope(session, actor, tier, region, level_id, unmet)
        rows: list[PartnerDashboard] = []
        size = limit + 1
        while True:
            batch = query
            if after is not None:
                batch = batch.where(sa.or_(Organisation.name > after[0],
                                           sa.and_(Organisation.name == after[0], Organisation.id > after[1])))
            partners = list(session.scalars(batch.order_by(Organisation.name, Organisation.id).limit(size)))
            rows += _rows(session, partners, levels, unmet, day)
            if len(rows) > limit or len(partners) < size:
                break
            after = (partners[-1].name, partners[-1].id)
            size = min(size * 2, 800)
        page = rows[:limit]
        more = len(rows) > limit
        return Page(page, encode_name_cursor(page[-1].partner.name, page[-1].partner.id) if more else None)


def levels(actor: User) -> list[PartnerLevel]:
    """The level set with each level's requirements, lowest level first."""
    access.require(actor, "partner_status.read")
    with unit_of_work() as uow:
        return sorted(_levels(uow.session).values(), key=lambda level: level.rank)
