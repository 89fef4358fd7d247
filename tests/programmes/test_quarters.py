"""Calendar quarters, the periods of programmes and claims, at the edges of months and years."""
from __future__ import annotations

from datetime import date

import pytest

from app.quarters import days_of, quarter_of


@pytest.mark.parametrize("day, expected", [
    (date(2026, 1, 1), ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))),
    (date(2028, 2, 29), ("2028-Q1", date(2028, 1, 1), date(2028, 3, 31))),
    (date(2026, 6, 30), ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30))),
    (date(2026, 7, 1), ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30))),
    (date(2026, 12, 31), ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))),
])
def test_the_quarter_of_a_day(day, expected):
    assert quarter_of(day) == expected
    assert days_of(expected[0]) == expected[1:]


@pytest.mark.parametrize("label", ["2026-Q5", "2026-Q0", "26-Q1", "2026-q1", "2026-Q1\n", ""])
def test_a_name_that_is_no_quarter_is_refused(label):
    with pytest.raises(ValueError):
        days_of(label)
