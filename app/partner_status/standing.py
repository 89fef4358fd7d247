"""Whether a partner meets a requirement of its level, on a day (no database here).

A requirement is met when the partner shows at least `minimum` of what it asks: engineers
holding an unexpired certification of the family, engineers who completed the course, or
(for a specialisation) one held on that day. One that is not met is `waived` while a
programme-wide waiver or the partner's own exception runs (through its `until` day),
else `due` until its deadline and `overdue` after it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.partner_status.models import LevelRequirement, RequirementKind


@dataclass(frozen=True)
class Standing:
    requirement_id: int
    code: str
    kind: str
    subject: str
    minimum: int
    deadline: date
    have: int
    waived_until: date | None  # the programme-wide waiver reaching furthest, if any still runs
    exception_until: date | None  # the partner's own exception, if it still runs
    exception_granted_until: date | None

    @property
    def met(self) -> bool:
        return self.have >= self.minimum

    @property
    def excused_until(self) -> date | None:
        return max((d for d in (self.waived_until, self.exception_until) if d), default=None)

    def status_on(self, day: date) -> str:
        if self.met:
            return "met"
        if self.excused_until is not None and self.excused_until >= day:
            return "waived"
        return "due" if self.deadline >= day else "overdue"


@dataclass(frozen=True)
class Holdings:
    """What one partner shows: certified engineers per family (lower case), course completions
    per course, and the specialisations it holds on the day judged."""

    certified: dict[str, int]
    trained: dict[str, int]
    specialisations: frozenset[str]


def have(requirement: LevelRequirement, holdings: Holdings) -> int:
    subject = requirement.subject.lower()
    if requirement.kind is RequirementKind.CERTIFIED_ENGINEERS:
        return holdings.certified.get(subject, 0)
    if requirement.kind is RequirementKind.TRAINING:
        return holdings.trained.get(subject, 0)
    return 1 if subject in holdings.specialisations else 0


def judge(requirement: LevelRequirement, holdings: Holdings, day: date, waived_until: date | None,
          exception: tuple[date, date] | None) -> Standing:
    """exception: (until, granted_until) of the partner's own exception for this requirement."""
    running = exception if exception and exception[0] >= day else None
    return Standing(requirement.id, requirement.code, requirement.kind.value, requirement.subject,
                    requirement.minimum, requirement.deadline, have(requirement, holdings),
                    waived_until if waived_until and waived_until >= day else None,
                    running[0] if running else None, running[1] if running else None)
