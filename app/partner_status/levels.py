"""The level set and what partners hold, as the programmes team sets them up (demo data and tests
drive these too): levels with their requirements, partners' statuses, trainings, specialisations
and one partner's exception from a requirement. Each change is audited."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.audit.services import record
from app.clock import now
from app.errors import Conflict, InvalidInput, NotFound, RuleViolation
from app.partner_status.models import (LevelRequirement, PartnerException, PartnerLevel, PartnerStatus,
                                       RequirementKind, Specialisation, TrainingCompletion)
from app.uow import unit_of_work


def create_level(actor: User, name: str, rank: int,
                 requirements: list[tuple[str, RequirementKind, str, int, date]]) -> PartnerLevel:
    """A level and its requirements: (code, kind, subject, minimum, deadline) each."""
    access.require(actor, "partner_status.change")
    if not name.strip() or rank < 1 or any(minimum < 1 for _c, _k, _s, minimum, _d in requirements):
        raise InvalidInput("A level needs a name, a rank of at least 1 and requirements asking at least one.")
    with unit_of_work() as uow:
        if uow.session.scalar(sa.select(PartnerLevel.id).where(
                sa.or_(PartnerLevel.name == name.strip(), PartnerLevel.rank == rank))):
            raise Conflict(f"A level named {name!r} or of rank {rank} exists already.", code="level_exists")
        level = PartnerLevel(name=name.strip(), rank=rank)
        uow.session.add(level)
        uow.session.flush()
        uow.session.add_all(LevelRequirement(level_id=level.id, code=code, kind=kind, subject=subject,
                                             minimum=minimum, deadline=deadline)
                            for code, kind, subject, minimum, deadline in requirements)
        uow.session.flush()
        record(actor, "partner_level", level.id, "partner_level.created",
               after={"name": level.name, "rank": rank,
                      "requirements": [[c, k.value, s, m, d.isoformat()] for c, k, s, m, d in requirements]})
        uow.session.refresh(level, ["requirements"])  # loaded while the session is open
        return level


def set_status(actor: User, partner_id: int, level_id: int, valid_through: date, next_review_on: date) -> PartnerStatus:
    """Put a partner at a level through a day, with its next levelling review."""
    access.require(actor, "partner_status.change")
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
        record(actor, "partner_status", partner.id, "partner_status.set", before=before,
               after={"level_id": level_id, "valid_through": valid_through.isoformat(),
                      "next_review_on": next_review_on.isoformat()})
        return status


def record_training(actor: User, user_id: int, course: str, completed_on: date) -> None:
    """An engineer's completed course (as the training system reports it); again: nothing new."""
    access.require(actor, "partner_status.change")
    with unit_of_work() as uow:
        if uow.session.get(User, user_id) is None:
            raise NotFound(f"User {user_id} not found.", code="user_not_found")
        if uow.session.scalar(sa.select(TrainingCompletion.id).where(
                TrainingCompletion.user_id == user_id, TrainingCompletion.course == course)):
            return
        uow.session.add(TrainingCompletion(user_id=user_id, course=course, completed_on=completed_on))
        record(actor, "user", user_id, "training.completed",
               after={"course": course, "completed_on": completed_on.isoformat()})


def add_specialisation(actor: User, partner_id: int, name: str, starts_on: date, ends_on: date) -> Specialisation:
    access.require(actor, "partner_status.change")
    if ends_on < starts_on:
        raise RuleViolation("A specialisation ends on or after its first day.", code="dates_in_wrong_order",
                            details={"fields": {"ends_on": ["On or after starts_on."]}})
    with unit_of_work() as uow:
        partner = access.get_programme_partner(actor, partner_id)
        specialisation = Specialisation(partner_id=partner.id, name=name, starts_on=starts_on, ends_on=ends_on)
        uow.session.add(specialisation)
        uow.session.flush()
        record(actor, "partner_status", partner.id, "specialisation.added",
               after={"name": name, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
        return specialisation


def grant_exception(actor: User, partner_id: int, requirement_id: int, until: date, reason: str) -> PartnerException:
    """Excuse one partner from one requirement until a day (today or later)."""
    access.require(actor, "partner_status.change")
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
