"""SLA targets and calendars from their data files, validated at start-up, and the clock policy of one SR."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.policy_files import SEVERITIES, PolicyFileError, load_yaml
from app.srs.sla import AlwaysOpen, BusinessHours, Calendar, Policy, Targets

HERE = Path(__file__).resolve().parent
DEFAULT_CALENDARS_FILE = HERE / "calendars.yaml"
DEFAULT_SLA_FILE = HERE / "sla.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN = AlwaysOpen()


@dataclass(frozen=True)
class SLATargets:
    initial_response: dict[str, timedelta]
    update_cadence: dict[str, timedelta]


def load_sla(path: Path = DEFAULT_SLA_FILE) -> SLATargets:
    data = load_yaml(path)
    targets = data.get("targets")
    if not isinstance(targets, dict) or set(targets) != set(SEVERITIES):
        raise PolicyFileError(path, "targets must give S1, S2, S3 and S4")
    initial, cadence = {}, {}
    for severity, target in targets.items():
        try:
            initial[severity] = timedelta(minutes=int(target["initial_response_minutes"]))
            cadence[severity] = timedelta(minutes=int(target["update_cadence_minutes"]))
        except (KeyError, TypeError, ValueError):
            raise PolicyFileError(path, f"{severity}: needs initial_response_minutes and "
                                        "update_cadence_minutes as whole numbers") from None
        if initial[severity] <= timedelta(0) or cadence[severity] <= timedelta(0):
            raise PolicyFileError(path, f"{severity}: targets must be positive")
    return SLATargets(initial, cadence)


@dataclass(frozen=True)
class CalendarBook:
    """Named calendars and which one each (severity, region) runs on; 24x7 otherwise."""

    calendars: dict[str, Calendar] = field(default_factory=dict)
    apply: dict[str, dict[str, str]] = field(default_factory=dict)

    def calendar_for(self, severity: str, region: str | None) -> Calendar:
        name = self.apply.get(severity, {}).get(region or "")
        return self.calendars[name] if name else ALWAYS_OPEN


def clock_policy(targets: SLATargets, book: CalendarBook, region: str | None,
                 near_breach_percent: int) -> Policy:
    """The sla.Policy of an SR in `region`: targets per severity, and their calendars."""
    return Policy(
        targets=lambda severity: Targets(targets.initial_response[severity], targets.update_cadence[severity]),
        calendar=lambda severity: book.calendar_for(severity, region),
        warn_fraction=near_breach_percent / 100,
    )


def _clock_time(path: Path, where: str, raw) -> time:
    if isinstance(raw, str):
        try:
            hours, minutes = raw.split(":")
            if hours == "24" and minutes == "00":
                return time(0)
            return time(int(hours), int(minutes))
        except ValueError:
            pass
    raise PolicyFileError(path, f"{where}: {raw!r} is not a time like \"08:30\"")


def _business_hours(path: Path, name: str, raw) -> BusinessHours:
    if not isinstance(raw, dict) or set(raw) - {"timezone", "hours", "holidays"}:
        raise PolicyFileError(path, f"calendar {name}: needs timezone, hours and optional holidays only")
    try:
        zone = ZoneInfo(str(raw.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyFileError(path, f"calendar {name}: unknown timezone {raw.get('timezone')!r}") from None
    hours_raw = raw.get("hours")
    if not isinstance(hours_raw, dict) or not hours_raw or set(hours_raw) - set(WEEKDAYS):
        raise PolicyFileError(path, f"calendar {name}: hours must map weekdays ({', '.join(WEEKDAYS)}) "
                                    "to [opening, closing]")
    hours = {}
    for day, span in hours_raw.items():
        if not isinstance(span, list) or len(span) != 2:
            raise PolicyFileError(path, f"calendar {name}: {day} must be [opening, closing]")
        opening = _clock_time(path, f"calendar {name}, {day}", span[0])
        closing = _clock_time(path, f"calendar {name}, {day}", span[1])
        if closing != time(0) and closing <= opening:
            raise PolicyFileError(path, f"calendar {name}: {day} closes before it opens")
        hours[WEEKDAYS.index(day)] = (opening, closing)
    holidays = set()
    for raw_day in raw.get("holidays") or []:
        try:
            holidays.add(raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day)))
        except ValueError:
            raise PolicyFileError(path, f"calendar {name}: holiday {raw_day!r} is not a date") from None
    return BusinessHours(name, zone, hours, frozenset(holidays))


def load_calendars(path: Path = DEFAULT_CALENDARS_FILE) -> CalendarBook:
    """Read and check the calendars file; a mistake stops the start-up with file and reason."""
    data = load_yaml(path)
    if set(data) - {"calendars", "apply"}:
        raise PolicyFileError(path, "must hold a mapping with calendars and apply")
    raw_calendars = data.get("calendars") or {}
    if not isinstance(raw_calendars, dict):
        raise PolicyFileError(path, "calendars must map names to calendars")
    calendars: dict[str, Calendar] = {name: _business_hours(path, name, raw) for name, raw in raw_calendars.items()}
    apply_raw = data.get("apply") or {}
    if not isinstance(apply_raw, dict) or set(apply_raw) - set(SEVERITIES):
        raise PolicyFileError(path, "apply must map severities (S1..S4) to {region: calendar}")
    apply: dict[str, dict[str, str]] = {}
    for severity, regions in apply_raw.items():
        if not isinstance(regions, dict):
            raise PolicyFileError(path, f"apply.{severity} must map regions to calendar names")
        for region, name in regions.items():
            if name not in calendars:
                raise PolicyFileError(path, f"apply.{severity}.{region}: no calendar named {name!r}")
        apply[severity] = {str(region): str(name) for region, name in regions.items()}
    return CalendarBook(calendars, apply)
