"""Calendar quarters, which the rebate programmes' periods and the claims' periods are: 2026-Q4
runs from 1 October to 31 December 2026."""
from __future__ import annotations

import re
from datetime import date, timedelta

QUARTER = re.compile(r"(20[0-9]{2})-Q([1-4])\Z")


def quarter_of(day: date) -> tuple[str, date, date]:
    """The label, first day and last day of the quarter `day` falls in."""
    number = (day.month - 1) // 3 + 1
    return f"{day.year}-Q{number}", *quarter_days(day.year, number)


def days_of(label: str) -> tuple[date, date]:
    """First and last day of a quarter named like 2026-Q4; ValueError for any other name."""
    match = QUARTER.match(label or "")
    if match is None:
        raise ValueError(f"{label!r} does not name a quarter like 2026-Q4")
    return quarter_days(int(match.group(1)), int(match.group(2)))


def quarter_days(year: int, number: int) -> tuple[date, date]:
    first = date(year, 3 * number - 2, 1)
    after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return first, after - timedelta(days=1)
