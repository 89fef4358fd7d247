"""Programme-wide changes to partners' status, each previewed and then applied as one audited operation.

Kinds (`new_date` is the day each one moves things to):
- extend_levels           every partner's level held through new_date (those held less long)
- move_review             the next levelling review moved to new_date
- push_deadline           a requirement's deadline pushed later, to new_date
- extend_specialisations  every specialisation active on `active_on` extended until new_date
- waive_requirement       a requirement waived for every partner until new_date
- extend_exceptions       partners' own exceptions (by default PartnerWorks, tier PW) extended until new_date

extend_levels, move_review and extend_exceptions may be narrowed by tier and region. As with target
alleviation (app.programmes.targets), preview and apply are two operations: apply recomputes the
preview in its own transaction and, given the preview's digest, refuses (409) when anything changed
in between. Bad input (unknown requirement, dates in the wrong order, a review after the last day a
partner's level is held, an extension into a later term of the same specialisation) is refused, in the
preview as in apply, before any write.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app import access
from app.accounts.models import Organisation, OrgKind, PartnerTier, User
from app.audit.services import record
from app.clock import now
from app.errors import Conflict, InvalidInput, NotFound, RuleViolation, refuse_days_out_of_range
from app.partner_status.models import (LevelRequirement, PartnerException, PartnerLevel, PartnerStatus,
                                       RequirementWaiver, Specialisation, StatusChange)
from app.uow import unit_of_work

KINDS = ("extend_levels", "move_review", "push_deadline", "extend_specialisations", "waive_requirement",
         "extend_exceptions")
KIND_TITLES = {
    "extend_levels": "Extend all levels through a date",
    "move_review": "Move the levelling review",
    "push_deadline": "Push a requirement's deadline",
    "extend_specialisations": "Extend every specialisation active on a date",
    "waive_requirement": "Waive a requirement until a date",
    "extend_exceptions": "Extend exceptions of PartnerWorks partners",
}
NEEDS_REQUIREMENT = {"push_deadline", "waive_requirement"}
FILTERED = {"extend_levels", "move_review", "extend_exceptions"}
NAMED = 5  # partners a refusal's message names; a programme can reach hundreds, its details list them all


@dataclass(frozen=True)
class ChangeRequest:
    kind: str
    new_date: date
    requirement_id: int | None = None
    active_on: date | None = None
    tier: str | None = None
    region: str | None = None

    def parameters(self) -> dict:
        return {"kind": self.kind, "new_date": self.new_date.isoformat(), "requirement_id": self.requirement_id,
                "active_on": self.active_on.isoformat() if self.active_on else None,
                "tier": self.effective_tier, "region": self.region}

    @property
    def effective_tier(self) -> str | None:
        # Exceptions are a PartnerWorks matter unless asked otherwise.
        return self.tier or ("PW" if self.kind == "extend_exceptions" else None)


@dataclass(frozen=True)
class Affected:
    partner_id: int
    partner_name: str
    subject: str  # what moves for this partner: its level, review, a requirement, a specialisation
    before: date | None
    after: date
    target_id: int  # the row changed: a status, requirement, specialisation or exception


@dataclass(frozen=True)
class Preview:
    request: ChangeRequest
    rows: list[Affected]

    @property
    def digest(self) -> str:
        facts = [self.request.parameters(),
                 [[r.partner_id, r.subject, r.before.isoformat() if r.before else None, r.after.isoformat()]
                  for r in self.rows]]
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def check(request: ChangeRequest) -> None:
    """What can be refused without reading anything: a 400 naming each field, or 422 for dates."""
    problems: dict[str, list[str]] = {}
    if request.kind not in KINDS:
        problems["kind"] = [f"One of {', '.join(KINDS)}."]
    if request.kind in NEEDS_REQUIREMENT and request.requirement_id is None:
        problems["requirement_id"] = ["Needed for this change."]
    if request.kind == "extend_specialisations" and request.active_on is None:
        problems["active_on"] = ["Needed: the day the specialisations are active on."]
    if request.kind not in FILTERED and (request.tier or request.region):
        problems["tier" if request.tier else "region"] = ["This change reaches every partner of the level."]
    if request.tier is not None and request.tier not in {t.value for t in PartnerTier}:
        problems["tier"] = ["PW or PWP."]
    if problems:
        raise InvalidInput("The change is not valid.", details={"fields": problems})
    refuse_days_out_of_range(new_date=request.new_date, active_on=request.active_on)
    today = now().date()
    if request.kind == "extend_specialisations" and request.new_date <= request.active_on:
        raise RuleViolation("Specialisations are extended until a day after the day they are active on.",
                            code="dates_in_wrong_order",
                            details={"fields": {"new_date": [f"After active_on ({request.active_on})."]}})
    if request.new_date < today:
        raise RuleViolation(f"{request.new_date} is in the past.", code="date_in_past",
                            details={"fields": {"new_date": [f"Today ({today}) or later."]}})


def _partners(actor: User, request: ChangeRequest) -> sa.Select:
    query = access.programme_partners(actor).where(Organisation.kind == OrgKind.PARTNER)
    if request.effective_tier:
        query = query.where(Organisation.tier == PartnerTier(request.effective_tier))
    if request.region:
        query = query.where(Organisation.region == request.region)
    return query


def _requirement(session, request: ChangeRequest) -> LevelRequirement:
    # As it is now, not as the change desk's page, which keeps the requirements it showed, read it earlier.
    requirement = session.get(LevelRequirement, request.requirement_id, populate_existing=True)
    if requirement is None:
        raise NotFound(f"Requirement {request.requirement_id} not found.", code="requirement_not_found")
    return requirement


def _compute(session, actor: User, request: ChangeRequest) -> Preview:
    partners = _partners(actor, request).subquery()
    by_name = (partners.c.name, partners.c.id)
    kind, new = request.kind, request.new_date
    rows: list[Affected] = []
    if kind in ("extend_levels", "move_review"):
        column = PartnerStatus.valid_through if kind == "extend_levels" else PartnerStatus.next_review_on
        moved = column < new if kind == "extend_levels" else column != new
        reached = session.execute(
            sa.select(PartnerStatus.id, partners.c.id, partners.c.name, PartnerLevel.name, column,
                      PartnerStatus.valid_through)
            .join(partners, partners.c.id == PartnerStatus.partner_id)
            .join(PartnerLevel, PartnerLevel.id == PartnerStatus.level_id).where(moved).order_by(*by_name)).all()
        if kind == "move_review":
            _refuse_review_after_level(new, [(pid, name, through) for _, pid, name, _, _, through in reached
                                             if through < new])
        for status_id, pid, name, level, before, _ in reached:
            subject = f"level {level}" if kind == "extend_levels" else "levelling review"
            rows.append(Affected(pid, name, subject, before, new, status_id))
    elif kind in NEEDS_REQUIREMENT:
        requirement = _requirement(session, request)
        if kind == "push_deadline" and new <= requirement.deadline:
            raise RuleViolation(f"A deadline is pushed later than {requirement.deadline}.",
                                code="dates_in_wrong_order",
                                details={"fields": {"new_date": [f"After {requirement.deadline}."]}})
        before = requirement.deadline
        if kind == "waive_requirement":
            before = session.scalar(sa.select(sa.func.max(RequirementWaiver.until))
                                    .where(RequirementWaiver.requirement_id == requirement.id))
            if before is not None and before >= new:
                return Preview(request, [])  # waived that long already
        for pid, name in session.execute(
                sa.select(partners.c.id, partners.c.name).join(PartnerStatus, PartnerStatus.partner_id == partners.c.id)
                .where(PartnerStatus.level_id == requirement.level_id).order_by(*by_name)):
            rows.append(Affected(pid, name, f"requirement {requirement.code}", before, new, requirement.id))
    elif kind == "extend_specialisations":
        extended = (Specialisation.starts_on <= request.active_on, Specialisation.ends_on >= request.active_on,
                    Specialisation.ends_on < new)
        _refuse_overlapping_terms(session, partners, new, extended)
        for sid, pid, name, specialisation, before in session.execute(
                sa.select(Specialisation.id, partners.c.id, partners.c.name, Specialisation.name,
                          Specialisation.ends_on)
                .join(partners, partners.c.id == Specialisation.partner_id)
                .where(*extended).order_by(*by_name, Specialisation.name)):
            rows.append(Affected(pid, name, f"specialisation {specialisation}", before, new, sid))
    else:  # extend_exceptions: those still running today
        for eid, pid, name, code, before in session.execute(
                sa.select(PartnerException.id, partners.c.id, partners.c.name, LevelRequirement.code,
                          PartnerException.until)
                .join(partners, partners.c.id == PartnerException.partner_id)
                .join(LevelRequirement, LevelRequirement.id == PartnerException.requirement_id)
                .where(PartnerException.until >= now().date(), PartnerException.until < new)
                .order_by(*by_name, LevelRequirement.code)):
            rows.append(Affected(pid, name, f"exception from {code}", before, new, eid))
    return Preview(request, rows)


def _named(items: list[str]) -> str:
    shown = "; ".join(items[:NAMED])
    return shown + (f"; and {len(items) - NAMED} more" if len(items) > NAMED else "")


def _refuse_review_after_level(new: date, ending: list[tuple[int, str, date]]) -> None:
    """levels.set_status's rule, for every partner the move reaches: no review after the last day the
    level is held. `ending`: (partner id, name, valid_through) of those whose level ends before `new`."""
    if not ending:
        return
    raise RuleViolation(
        "The levelling review comes on or before the last day the level is held: "
        + _named([f"{name} holds its level through {through}" for _, name, through in ending])
        + ". Extend their levels first, or narrow the change by tier or region.",
        code="dates_in_wrong_order",
        details={"fields": {"new_date": [f"On or before {min(through for *_, through in ending)}."]},
                 "partners": [{"id": pid, "name": name, "valid_through": through.isoformat()}
                              for pid, name, through in ending]})


def _refuse_overlapping_terms(session, partners, new: date, extended: tuple) -> None:
    """levels.add_specialisation's rule: a partner holds one term of a specialisation on any day. An
    extension reaching into another term of the same name (a renewal already recorded) is refused
    whole, rather than leaving two terms over the same days."""
    other = aliased(Specialisation)
    clashes = session.execute(
        sa.select(partners.c.id, partners.c.name, Specialisation.name, other.starts_on, other.ends_on)
        .join(partners, partners.c.id == Specialisation.partner_id)
        .join(other, sa.and_(other.partner_id == Specialisation.partner_id, other.id != Specialisation.id,
                             sa.func.lower(other.name) == sa.func.lower(Specialisation.name),
                             other.starts_on <= new, other.ends_on >= Specialisation.starts_on))
        .where(*extended).order_by(partners.c.name, partners.c.id, Specialisation.name, other.starts_on)).all()
    if not clashes:
        return
    raise Conflict(
        f"Extending until {new} would make two terms of one specialisation overlap: "
        + _named([f"{partner} holds {name} again from {starts} through {ends}"
                  for _, partner, name, starts, ends in clashes])
        + ". Extend until an earlier day.",
        code="specialisation_exists",
        details={"fields": {"new_date": [f"Before {min(starts for *_, starts, _ in clashes)}."]},
                 "specialisations": [{"partner_id": pid, "partner": partner, "name": name,
                                      "starts_on": starts.isoformat(), "ends_on": ends.isoformat()}
                                     for pid, partner, name, starts, ends in clashes]})


def preview_change(actor: User, request: ChangeRequest) -> Preview:
    """Every partner the change would reach, with the day before and after; nothing is written."""
    access.require(actor, "partner_status.change")
    check(request)
    with unit_of_work() as uow:
        return _compute(uow.session, actor, request)


def apply_change(actor: User, request: ChangeRequest, reason: str,
                 preview_digest: str | None = None) -> tuple[StatusChange, Preview]:
    """Apply the change as previewed, in one transaction, with one audit event listing every partner."""
    access.require(actor, "partner_status.change")
    check(request)
    if not reason.strip():
        raise InvalidInput("Say why.", details={"fields": {"reason": ["Needed."]}})
    with unit_of_work() as uow:
        session = uow.session
        # The level rows are the lock: two programme-wide changes run one after the other.
        session.execute(sa.select(PartnerLevel.id).order_by(PartnerLevel.id).with_for_update()).all()
        preview = _compute(session, actor, request)
        if preview_digest is not None and preview_digest != preview.digest:
            raise Conflict("Partners' status changed since the preview; preview again.", code="preview_stale")
        if not preview.rows:
            raise Conflict("No partner is affected; nothing to change.", code="nothing_affected")
        change = StatusChange(kind=request.kind, parameters=request.parameters(), reason=reason.strip(),
                              affected=len(preview.rows), created_by_id=actor.id)
        session.add(change)
        session.flush()
        _write(session, request, preview, change)
        record(actor, "partner_status_change", change.id, f"partner_status.{request.kind}",
               before={"rows": [[r.partner_id, r.subject, r.before.isoformat() if r.before else None]
                                for r in preview.rows]},
               after={**request.parameters(), "reason": change.reason,
                      "rows": [[r.partner_id, r.subject, r.after.isoformat()] for r in preview.rows]})
        # Each partner reached is told what moved for it, by its admins' e-mail, once this commits.
        uow.emit("notify.partner_status.changed", {
            "change_id": change.id,
            "rows": [[r.partner_id, r.subject, r.before.isoformat() if r.before else None, r.after.isoformat()]
                     for r in preview.rows]})
        return change, preview


def _write(session, request: ChangeRequest, preview: Preview, change: StatusChange) -> None:
    targets = sorted({r.target_id for r in preview.rows})
    new = request.new_date
    if request.kind == "extend_levels":
        session.execute(sa.update(PartnerStatus).where(PartnerStatus.id.in_(targets)).values(valid_through=new))
    elif request.kind == "move_review":
        session.execute(sa.update(PartnerStatus).where(PartnerStatus.id.in_(targets)).values(next_review_on=new))
    elif request.kind == "push_deadline":
        session.execute(sa.update(LevelRequirement).where(LevelRequirement.id.in_(targets)).values(deadline=new))
    elif request.kind == "waive_requirement":
        session.add(RequirementWaiver(requirement_id=targets[0], until=new, change_id=change.id))
    elif request.kind == "extend_specialisations":
        session.execute(sa.update(Specialisation).where(Specialisation.id.in_(targets)).values(ends_on=new))
    else:
        session.execute(sa.update(PartnerException).where(PartnerException.id.in_(targets)).values(until=new))


def list_changes(actor: User, limit: int = 50) -> list[tuple[StatusChange, str]]:
    """The changes applied, newest first, with who applied each."""
    access.require(actor, "partner_status.change")
    with unit_of_work() as uow:
        return list(uow.session.execute(sa.select(StatusChange, User.name)
                                        .join(User, User.id == StatusChange.created_by_id)
                                        .order_by(StatusChange.id.desc()).limit(limit)))
