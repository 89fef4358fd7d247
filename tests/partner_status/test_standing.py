"""Whether a requirement is met, waived, due or overdue on a day (the rules alone, no database)."""
from __future__ import annotations

from datetime import date

import pytest

from app.partner_status.models import LevelRequirement, RequirementKind
from app.partner_status.standing import Holdings, judge

DAY = date(2027, 3, 31)
HOLDINGS = Holdings(certified={"exos": 2}, trained={"fabric connect essentials": 1},
                    specialisations=frozenset({"campus fabric"}))


def requirement(kind=RequirementKind.CERTIFIED_ENGINEERS, subject="EXOS", minimum=2, deadline=DAY):
    return LevelRequirement(id=1, code="R", kind=kind, subject=subject, minimum=minimum, deadline=deadline)


@pytest.mark.parametrize("asked, status", [
    (requirement(minimum=2), "met"),
    (requirement(subject="exos", minimum=2), "met"),  # families compare in any case
    (requirement(minimum=3), "due"),  # the deadline day itself is still in time
    (requirement(minimum=3, deadline=date(2027, 3, 30)), "overdue"),
    (requirement(RequirementKind.TRAINING, "Fabric Connect Essentials", 1), "met"),
    (requirement(RequirementKind.TRAINING, "Fabric Connect Essentials", 2), "due"),
    (requirement(RequirementKind.SPECIALISATION, "Campus Fabric", 1), "met"),
    (requirement(RequirementKind.SPECIALISATION, "Wireless", 1, date(2027, 1, 1)), "overdue"),
])
def test_a_requirement_on_a_day(asked, status):
    assert judge(asked, HOLDINGS, DAY, None, None).status_on(DAY) == status


def test_a_waiver_or_an_exception_excuses_through_its_last_day_only():
    unmet = requirement(minimum=5, deadline=date(2027, 1, 1))
    assert judge(unmet, HOLDINGS, DAY, DAY, None).status_on(DAY) == "waived"
    assert judge(unmet, HOLDINGS, DAY, date(2027, 3, 30), None).status_on(DAY) == "overdue"
    excused = judge(unmet, HOLDINGS, DAY, None, (DAY, date(2027, 2, 1)))
    assert (excused.status_on(DAY), excused.exception_granted_until) == ("waived", date(2027, 2, 1))
    lapsed = judge(unmet, HOLDINGS, DAY, None, (date(2027, 3, 1), date(2027, 3, 1)))
    assert (lapsed.status_on(DAY), lapsed.exception_until) == ("overdue", None)
