"""The level set and what partners hold, as the programmes team sets them up (the API, the pages and
the demo data drive these): levels with their requirements, partners' statuses, trainings,
specialisations and one partner's exception from a requirement. Each change is audited in its own
unit of work; bad input is refused before anything is written."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app import access
from app.accounts.models import User
from app.audit.services import record
from app.clock import now
from app.contracts.models import Product
from app.errors import Conflict, InvalidInput, NotFound, RuleViolation, refuse_days_out_of_range
from app.partner_status.models import (LevelRequirement, PartnerException, PartnerLevel, PartnerStatus,
                                       RequirementKind, Specialisation, TrainingCompletion)
from app.uow import unit_of_work

NAME_LENGTH, CODE_LENGTH, SUBJECT_LENGTH = 64, 32, 64


@contextmanager
def _unique(message: str, code: str) -> Iterator[None]:
    """Two people writing the same level, code or training at once: the database's unique index
    refuses the second, after the check both passed (409, not a 500)."""
    try:
        yield
    except IntegrityError:
        raise Conflict(message, code=code) from None


@dataclass(frozen=True)
class RequirementIn:
    """A requirement as asked for: `subject` is a product family, a course or a specialisation."""

    code: str
    kind: RequirementKind
    subject: str
    minimum: int
    deadline: date

    @classmethod
    def of(cls, given) -> RequirementIn:
        if isinstance(given, RequirementIn):
            return given
        code, kind, subject, minimum, deadline = given
        if kind not in {k.value for k in RequirementKind} | set(RequirementKind):
            raise InvalidInput("The requirement is not valid.",
                               details={"fields": {"kind": [", ".join(k.value for k in RequirementKind)]}})
        refuse_days_out_of_range(deadline=deadline)
        return cls((code or "").strip(), RequirementKind(kind), (subject or "").strip(), minimum, deadline)

    def audited(self) -> list:
        return [self.code, self.kind.value, self.subject, self.minimum, self.deadline.isoformat()]


def _check_requirements(session, requirements: list[RequirementIn], taken: set[str] = frozenset(),
                        field: str = "requirements") -> None:
    """Shape first (400 naming each problem), then the rules that read (422): a family no product
    has, a deadline already past. `taken`: the codes the level has already (409 if asked again)."""
    problems: list[str] = []
    seen: set[str] = set()
    for r in requirements:
        if not r.code or len(r.code) > CODE_LENGTH:
            problems.append(f"A code of 1 to {CODE_LENGTH} characters ({r.code!r}).")
        elif r.code.upper() in seen:
            problems.append(f"{r.code} is given twice.")
        seen.add(r.code.upper())
        if not r.subject or len(r.subject) > SUBJECT_LENGTH:
            problems.append(f"{r.code}: a subject of 1 to {SUBJECT_LENGTH} characters.")
        if r.minimum < 1 or (r.kind is RequirementKind.SPECIALISATION and r.minimum != 1):
            problems.append(f"{r.code}: at least 1 (a specialisation: exactly 1).")
    if problems:
        raise InvalidInput("The requirements are not valid.", details={"fields": {field: problems}})
    again = sorted(r.code for r in requirements if r.code.upper() in {c.upper() for c in taken})
    if again:
        raise Conflict(f"The level has {', '.join(again)} already.", code="requirement_exists",
                       details={"fields": {field: [f"{code} exists already." for code in again]}})
    today = now().date()
    past = [r.code for r in requirements if r.deadline < today]
    if past:
        raise RuleViolation(f"A deadline is today ({today}) or later.", code="date_in_past",
                            details={"fields": {field: [f"{code}: the deadline is past." for code in past]}})
    families = {r.subject.lower() for r in requirements if r.kind is RequirementKind.CERTIFIED_ENGINEERS}
    known = set(session.scalars(sa.select(sa.func.lower(Product.family)).distinct()
                                .where(sa.func.lower(Product.family).in_(families)))) if families else set()
    unknown = sorted({r.subject for r in requirements
                      if r.kind is RequirementKind.CERTIFIED_ENGINEERS and r.subject.lower() not in known})
    if unknown:
        raise RuleViolation(f"No product is of the family {', '.join(unknown)}.", code="unknown_family",
                            details={"fields": {field: [f"{family}: no product of this family." for family in unknown]}})


def create_level(actor: User, name: str, rank: int, requirements: list) -> PartnerLevel:
    """A level and its requirements: RequirementIn or (code, kind, subject, minimum, deadline) each."""
    access.require(actor, "partner_status.change")
    name = (name or "").strip()
    problems = {}
    if not name or len(name) > NAME_LENGTH:
        problems["name"] = [f"1 to {NAME_LENGTH} characters."]
    if rank < 1:
        problems["rank"] = ["1 or more (1 is the lowest level)."]
    if problems:
        raise InvalidInput("A level needs a name and a rank of at least 1.", details={"fields": problems})
    asked = [RequirementIn.of(r) for r in requirements]
    with _unique(f"A level named {name!r} or of rank {rank} was defined a moment ago.", "level_exists"), \
            unit_of_work() as uow:
        _check_requirements(uow.session, asked)
        if uow.session.scalar(sa.select(PartnerLevel.id).where(
                sa.or_(sa.func.lower(PartnerLevel.name) == name.lower(), PartnerLevel.rank == rank))):
            raise Conflict(f"A level named {name!r} or of rank {rank} exists already.", code="level_exists")
        level = PartnerLevel(name=name, rank=rank)
        uow.session.add(level)
        uow.session.flush()
        _add(uow.session, level, asked)
        record(actor, "partner_level", level.id, "partner_level.created",
               after={"name": level.name, "rank": rank, "requirements": [r.audited() for r in asked]})
        uow.session.refresh(level, ["requirements"])  # loaded while the session is open
        return level


def _add(session, level: PartnerLevel, requirements: list[RequirementIn]) -> None:
    session.add_all(LevelRequirement(level_id=level.id, code=r.code, kind=r.kind, subject=r.subject,
                                     minimum=r.minimum, deadline=r.deadline) for r in requirements)
    session.flush()


def add_requirement(actor: User, level_id: int, requirement) -> LevelRequirement:
    """One more requirement of a level; its code is new to the level."""
    access.require(actor, "partner_status.change")
    asked = RequirementIn.of(requirement)
    with _unique(f"{asked.code} was added to the level a moment ago.", "requirement_exists"), unit_of_work() as uow:
        level = uow.session.get(PartnerLevel, level_id)
        if level is None:
            raise NotFound(f"Level {level_id} not found.", code="level_not_found")
        taken = set(uow.session.scalars(sa.select(LevelRequirement.code).where(LevelRequirement.level_id == level.id)))
        _check_requirements(uow.session, [asked], taken, field="code" if asked.code in taken else "requirement")
        _add(uow.session, level, [asked])
        added = uow.session.scalars(sa.select(LevelRequirement).where(LevelRequirement.level_id == level.id,
                                                                      LevelRequirement.code == asked.code)).one()
        record(actor, "partner_level", level.id, "partner_level.requirement_added",
               after={"requirement_id": added.id, "requirement": asked.audited()})
        return added


def set_status(actor: User, partner_id: int, level_id: int, valid_through: date, next_review_on: date) -> PartnerStatus:
    """Put a partner at a level through a day (today or later), reviewed on or before that day."""
    access.require(actor, "partner_status.change")
    refuse_days_out_of_range(valid_through=valid_through, next_review_on=next_review_on)
    today = now().date()
    if valid_through < today:
        raise RuleViolation(f"{valid_through} is in the past.", code="date_in_past",
                            details={"fields": {"valid_through": [f"Today ({today}) or later."]}})
    if next_review_on > valid_through:
        raise RuleViolation("The levelling review comes on or before the last day the level is held.",
                            code="dates_in_wrong_order",
                            details={"fields": {"next_review_on": [f"On or before valid_through ({valid_through})."]}})
    with unit_of_work() as uow:
        partner = access.get_programme_partner(actor, partner_id)
        if uow.session.get(PartnerLevel, level_id) is None:
            raise NotFound(f"Level {level_id} not found.", code="level_not_found")
        status = uow.session.scalars(sa.select(PartnerStatus)
                                     .where(PartnerStatus.partner_id == partner.id)).one_or_none()
        before = None
        if status is None:
            status = PartnerStatus(partner_id=partner.id)
            uow.session.add(status)
        else:
            before = {"level_id": status.level_id, "valid_through": status.valid_through.isoformat(),
                      "next_review_on": status.next_review_on.isoformat()}
        status.level_id, status.valid_through, status.next_review_on = level_id, valid_through, next_review_on
        uow.session.flush()
        uow.session.refresh(status)  # its level is the new one
        record(actor, "partner_status", partner.id, "partner_status.set", before=before,
               after={"level_id": level_id, "valid_through": valid_through.isoformat(),
                      "next_review_on": next_review_on.isoformat()})
        return status


def record_training(actor: User, user_id: int, course: str, completed_on: date,
                    partner_id: int | None = None) -> TrainingCompletion:
    """A partner's engineer completed a course (on or before today); the same course twice is a 409.
    Given partner_id (a partner's page), an engineer of another partner is not found."""
    access.require(actor, "partner_status.change")
    refuse_days_out_of_range(completed_on=completed_on)
    course = (course or "").strip()
    if not course or len(course) > SUBJECT_LENGTH:
        raise InvalidInput("The course is not valid.",
                           details={"fields": {"course": [f"1 to {SUBJECT_LENGTH} characters."]}})
    today = now().date()
    if completed_on > today:
        raise RuleViolation(f"{completed_on} is in the future.", code="date_in_future",
                            details={"fields": {"completed_on": [f"Today ({today}) or earlier."]}})
    with _unique(f"{course} was recorded for this engineer a moment ago.", "training_exists"), \
            unit_of_work() as uow:
        engineer = access.get_partner_engineer(actor, user_id, partner_id)
        if uow.session.scalar(sa.select(TrainingCompletion.id).where(
                TrainingCompletion.user_id == engineer.id,
                sa.func.lower(TrainingCompletion.course) == course.lower())):
            raise Conflict(f"{engineer.name} has completed {course} already.", code="training_exists",
                           details={"fields": {"course": ["Recorded already for this engineer."]}})
        training = TrainingCompletion(user_id=engineer.id, course=course, completed_on=completed_on)
        uow.session.add(training)
        uow.session.flush()
        record(actor, "user", engineer.id, "training.completed",
               after={"course": course, "completed_on": completed_on.isoformat()})
        return training


def add_specialisation(actor: User, partner_id: int, name: str, starts_on: date, ends_on: date) -> Specialisation:
    """A specialisation a partner holds from starts_on through ends_on; one of the same name whose
    days overlap these is a 409 (extend that one instead)."""
    access.require(actor, "partner_status.change")
    refuse_days_out_of_range(starts_on=starts_on, ends_on=ends_on)
    name = (name or "").strip()
    if not name or len(name) > SUBJECT_LENGTH:
        raise InvalidInput("The specialisation is not valid.",
                           details={"fields": {"name": [f"1 to {SUBJECT_LENGTH} characters."]}})
    if ends_on < starts_on:
        raise RuleViolation("A specialisation ends on or after its first day.", code="dates_in_wrong_order",
                            details={"fields": {"ends_on": ["On or after starts_on."]}})
    with unit_of_work() as uow:
        partner = access.get_programme_partner(actor, partner_id)
        if uow.session.scalar(sa.select(Specialisation.id).where(
                Specialisation.partner_id == partner.id, sa.func.lower(Specialisation.name) == name.lower(),
                Specialisation.starts_on <= ends_on, Specialisation.ends_on >= starts_on)):
            raise Conflict(f"{partner.name} holds {name} on some of these days already.",
                           code="specialisation_exists",
                           details={"fields": {"name": ["Held on some of these days already."]}})
        specialisation = Specialisation(partner_id=partner.id, name=name, starts_on=starts_on, ends_on=ends_on)
        uow.session.add(specialisation)
        uow.session.flush()
        record(actor, "partner_status", partner.id, "specialisation.added",
               after={"name": name, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
        return specialisation


def grant_exception(actor: User, partner_id: int, requirement_id: int, until: date, reason: str) -> PartnerException:
    """Excuse one partner from one requirement until a day (today or later)."""
    access.require(actor, "partner_status.change")
    refuse_days_out_of_range(until=until)
    if until < now().date():
        raise RuleViolation(f"{until} is in the past.", code="date_in_past",
                            details={"fields": {"until": [f"Today ({now().date()}) or later."]}})
    with unit_of_work() as uow:
        partner = access.get_programme_partner(actor, partner_id)
        if uow.session.get(LevelRequirement, requirement_id) is None:
            raise NotFound(f"Requirement {requirement_id} not found.", code="requirement_not_found")
        if uow.session.scalar(sa.select(PartnerException.id).where(
                PartnerException.partner_id == partner.id, PartnerException.requirement_id == requirement_id)):
            raise Conflict("This partner has an exception from this requirement already; extend it instead.",
                           code="exception_exists")
        exception = PartnerException(partner_id=partner.id, requirement_id=requirement_id, until=until,
                                     granted_until=until, reason=reason.strip(), created_by_id=actor.id)
        uow.session.add(exception)
        uow.session.flush()
        record(actor, "partner_status", partner.id, "exception.granted",
               after={"requirement_id": requirement_id, "until": until.isoformat(), "reason": exception.reason})
        return exception
