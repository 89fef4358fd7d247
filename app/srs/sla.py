"""SLA clock arithmetic (SPEC §6): pure functions of an SR's history, no database, no Flask.

Two clocks run per SR: the initial response (from the escalation until GTAC first
answers) and the update cadence (from the last update GTAC gave the partner).
Both count working time on a calendar (24x7 unless configured otherwise), pause
while the SR awaits the partner and stop once a solution is provided.

A severity change re-plans both clocks. An upgrade gives GTAC the new, shorter
targets from the moment of the change (the partner, not GTAC, misjudged the
severity). A downgrade keeps the time already spent, so lowering the severity
never resets a clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Callable, Iterable, Protocol

ZERO = timedelta(0)
SEVERITY_RANK = {"S1": 1, "S2": 2, "S3": 3, "S4": 4}
# How far add() looks for working time before it decides the calendar has none.
MAX_CALENDAR_DAYS = 3 * 366


class Calendar(Protocol):
    name: str

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The instant at which `work` of working time has passed since `start`."""

    def work_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero when end <= start)."""


@dataclass(frozen=True)
class AlwaysOpen:
    """24x7x365: every minute counts."""

    name: str = "24x7"

    def add(self, start: datetime, work: timedelta) -> datetime:
        return start + max(work, ZERO)

    def work_between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, ZERO)


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (0 = Monday) in one time zone, closed on holidays."""

    name: str
    zone: tzinfo
    hours: dict[int, tuple[time, time]]
    holidays: frozenset[date] = frozenset()

    def _windows(self, start: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Working windows (UTC) in time order, from the local day holding `start`."""
        day = start.astimezone(self.zone).date()
        for offset in range(MAX_CALENDAR_DAYS):
            current = day + timedelta(days=offset)
            opening = self.hours.get(current.weekday())
            if opening is None or current in self.holidays:
                continue
            begin = datetime.combine(current, opening[0], self.zone).astimezone(timezone.utc)
            # A closing time of 00:00 means midnight at the end of the day.
            closing_day = current + timedelta(days=1) if opening[1] == time(0) else current
            end = datetime.combine(closing_day, opening[1], self.zone).astimezone(timezone.utc)
            yield begin, end
        raise ValueError(f"calendar {self.name} has no working time within {MAX_CALENDAR_DAYS} days")

    def add(self, start: datetime, work: timedelta) -> datetime:
        remaining = max(work, ZERO)
        if remaining == ZERO:
            return start
        for begin, end in self._windows(start):
            if end <= start:
                continue
            begin = max(begin, start)
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable: _windows raises first")

    def work_between(self, start: datetime, end: datetime) -> timedelta:
        total = ZERO
        if end <= start:
            return total
        for begin, finish in self._windows(start):
            if begin >= end:
                break
            overlap = min(finish, end) - max(begin, start)
            if overlap > ZERO:
                total += overlap
        return total


@dataclass(frozen=True)
class Targets:
    response: timedelta
    update: timedelta


@dataclass(frozen=True)
class Policy:
    """Targets and calendar per severity, and when a clock counts as near its breach."""

    targets: Callable[[str], Targets]
    calendar: Callable[[str], Calendar]
    warn_fraction: float = 0.8


@dataclass(frozen=True)
class ClockEvent:
    """One thing that happened to an SR's clocks: an effect of workflow.ClockEffect, or 'severity'."""

    at: datetime
    effect: str
    severity: str | None = None


@dataclass(frozen=True)
class Reading:
    """One clock as the API shows it."""

    state: str  # running | paused | met | stopped
    target: timedelta
    due_at: datetime | None = None  # running only; in the past means breached
    warn_at: datetime | None = None
    remaining: timedelta | None = None  # paused only
    met_at: datetime | None = None
    met_late: bool | None = None


@dataclass(frozen=True)
class Plan:
    severity: str
    response: Reading
    update: Reading

    @property
    def running(self) -> list[Reading]:
        return [r for r in (self.response, self.update) if r.state == "running"]

    @property
    def due_at(self) -> datetime | None:
        """The earliest pending due time; None while nothing runs (paused, stopped)."""
        dues = [r.due_at for r in self.running]
        return min(dues) if dues else None

    @property
    def warn_at(self) -> datetime | None:
        """When the clock due first reaches its near-breach point."""
        running = sorted(self.running, key=lambda r: r.due_at)
        return running[0].warn_at if running else None

    def breached(self, at: datetime) -> bool:
        due = self.due_at
        return due is not None and due <= at


@dataclass
class _Segment:
    start: datetime
    calendar: Calendar
    end: datetime | None = None


@dataclass
class _Clock:
    segments: list[_Segment] = field(default_factory=list)

    def reset(self, at: datetime, calendar: Calendar, running: bool) -> None:
        self.segments = [_Segment(at, calendar)] if running else []

    def pause(self, at: datetime) -> None:
        if self.segments and self.segments[-1].end is None:
            self.segments[-1].end = at

    def resume(self, at: datetime, calendar: Calendar) -> None:
        if not self.segments or self.segments[-1].end is not None:
            self.segments.append(_Segment(at, calendar))

    def running(self) -> bool:
        return bool(self.segments) and self.segments[-1].end is None

    def reach(self, work: timedelta) -> tuple[datetime | None, timedelta]:
        """When the clock reaches `work` (None if it is paused before), and the work still missing."""
        used = ZERO
        for segment in self.segments:
            left = work - used
            if segment.end is None:
                return segment.calendar.add(segment.start, left), ZERO
            spent = segment.calendar.work_between(segment.start, segment.end)
            if spent >= left:
                return segment.calendar.add(segment.start, left), ZERO
            used += spent
        return None, work - used


def plan(opened_at: datetime, severity: str, events: Iterable[ClockEvent], policy: Policy) -> Plan:
    """The clocks of an SR opened at `opened_at` with `severity`, after `events` (in time order)."""
    calendar = policy.calendar(severity)
    response, update = _Clock(), _Clock()
    response.reset(opened_at, calendar, True)
    update.reset(opened_at, calendar, True)
    running, stopped = True, False
    responded_at: datetime | None = None
    response_due_then: datetime | None = None

    for event in events:
        at, effect = event.at, event.effect
        clocks = [update] if responded_at else [response, update]
        if effect == "respond" and responded_at is None:
            response_due_then, _ = response.reach(policy.targets(severity).response)
            responded_at = at
            response.pause(at)
        elif effect == "update":
            update.reset(at, calendar, running)
        elif effect in ("pause", "stop"):
            for clock in clocks:
                clock.pause(at)
            running = False
            stopped = stopped or effect == "stop"
        elif effect == "resume" and not stopped:
            running = True
            for clock in clocks:
                clock.resume(at, calendar)
        elif effect == "restart":
            running, stopped = True, False
            update.reset(at, calendar, True)
            if responded_at is None:
                response.resume(at, calendar)
        elif effect == "severity" and event.severity and event.severity != severity:
            upgrade = SEVERITY_RANK[event.severity] < SEVERITY_RANK[severity]
            severity, calendar = event.severity, policy.calendar(event.severity)
            for clock in clocks:
                if upgrade:
                    clock.reset(at, calendar, running)
                elif running:
                    clock.pause(at)
                    clock.resume(at, calendar)

    targets = policy.targets(severity)
    if responded_at is not None:
        response_reading = Reading("met", targets.response, met_at=responded_at,
                                   met_late=response_due_then is not None and responded_at > response_due_then)
    else:
        response_reading = _read(response, targets.response, running, stopped, policy.warn_fraction)
    return Plan(severity, response_reading, _read(update, targets.update, running, stopped, policy.warn_fraction))


def _read(clock: _Clock, target: timedelta, running: bool, stopped: bool, warn_fraction: float) -> Reading:
    if stopped:
        return Reading("stopped", target)
    due, missing = clock.reach(target)
    if not running or due is None:
        return Reading("paused", target, remaining=missing)
    warn, _ = clock.reach(target * warn_fraction)
    return Reading("running", target, due_at=due, warn_at=warn)
