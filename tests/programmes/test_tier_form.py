"""The new-programme form sets the programme's tiers, as the API does."""
from __future__ import annotations

import lxml.html
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.programmes import services
from app.programmes.models import RebateProgramme
from tests.programmes.helpers import user

pytestmark = pytest.mark.usefixtures("demo")


def _page_form(browser) -> dict[str, str]:
    """The new-programme form's fields as the page fills them in."""
    page = browser.get("/programmes")
    assert page.status_code == 200
    form = next(f for f in lxml.html.fromstring(page.get_data(as_text=True)).forms if "baseline" in f.fields)
    return {name: value for name, value in form.form_values()}


def _tiers(rows: list[tuple[str, str]]) -> dict[str, str]:
    """Rows as typed, then the remaining rows blank."""
    typed = {}
    for index in range(6):
        start, rate = rows[index] if index < len(rows) else ("", "")
        typed[f"tiers-{index}-from_pct"], typed[f"tiers-{index}-rate_pct"] = start, rate
    return typed


def _programme(app, name: str) -> RebateProgramme | None:
    with app.app_context():
        found = db.session.scalar(sa.select(RebateProgramme.id).where(RebateProgramme.name == name))
        return None if found is None else services.get_programme(user("programs@vendor.example"), found)


def _tiers_of(app, name: str) -> list[tuple[int, int]]:
    programme = _programme(app, name)
    return [(tier.from_bp, tier.rate_bp) for tier in programme.tiers]


def test_a_programme_created_on_the_page_has_the_tiers_typed(app, signed_in):
    browser = signed_in("programs")
    data = _page_form(browser) | {"name": "Tiered Rebate", "baseline": "250000.00"}
    data |= _tiers([("0", "0"), ("92.5", "2.25"), ("110 %", "5")])
    answer = browser.post("/programmes", data=data)
    assert answer.status_code == 303
    assert _tiers_of(app, "Tiered Rebate") == [(0, 0), (9250, 225), (11000, 500)]
    shown = browser.get(answer.headers["Location"]).get_data(as_text=True)
    assert "92.50 %" in shown and "2.25 %" in shown and "110.00 %" in shown


def test_the_form_starts_with_the_default_tiers_and_creates_them_as_filled_in(app, signed_in):
    browser = signed_in("programs")
    data = _page_form(browser)
    assert [(data[f"tiers-{i}-from_pct"], data[f"tiers-{i}-rate_pct"]) for i in range(6)] == [
        ("0", "0"), ("80", "2"), ("100", "4"), ("", ""), ("", ""), ("", "")]
    answer = browser.post("/programmes", data=data | {"name": "Plain Rebate", "baseline": "1000.00"})
    assert answer.status_code == 303
    assert _tiers_of(app, "Plain Rebate") == [(0, 0), (8000, 200), (10000, 400)]


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(RebateProgramme))


@pytest.mark.parametrize(("rows", "typed", "message"), [
    ([("0", "0"), ("80", "abc")], "abc", "A percentage such as 80 or 92.5."),
    ([("0", "0"), ("80", "2.255")], "2.255", "At most two decimals: 0.01 % is the smallest step."),
    ([("0", "0"), ("-80", "2")], "-80", "Not below 0 %."),
    ([("0", "0"), ("NaN", "2")], "NaN", "A percentage such as 80 or 92.5."),
    ([("0", "0"), ("9" * 30, "2")], "9" * 30, "At most 1000 %."),
    ([("0", "0"), ("80", "100.01")], "100.01", "At most 100 %."),
    ([("0", "0"), ("80", "")], "80", "Needed too, or leave the whole row blank."),
    ([], "", "At least one tier"),
    # The service's rule: no two tiers start at the same attainment.
    ([("0", "0"), ("80", "2"), ("80.00", "4")], "80.00", "Distinct thresholds"),
])
def test_a_bad_tier_is_refused_at_the_form_keeping_what_was_typed(app, signed_in, rows, typed, message):
    browser = signed_in("programs")
    before = _count(app)
    data = _page_form(browser) | {"name": "Refused Rebate", "baseline": "1000.00"} | _tiers(rows)
    answer = browser.post("/programmes", data=data)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    page = lxml.html.fromstring(html)
    assert message in " ".join(p.text_content() for p in page.find_class("field-error"))
    kept = dict(next(f for f in page.forms if "baseline" in f.fields).form_values())
    assert kept == data | {"csrf_token": kept["csrf_token"]}
    assert typed in kept.values()
    assert _count(app) == before and _programme(app, "Refused Rebate") is None


def test_a_name_taken_is_refused_with_a_400_keeping_the_tiers_typed(app, signed_in):
    browser = signed_in("programs")
    data = _page_form(browser) | {"name": "Twice Rebate", "baseline": "1000.00"} | _tiers([("0", "1.5")])
    assert browser.post("/programmes", data=data).status_code == 303
    again = browser.post("/programmes", data=data | _tiers([("0", "3")]))
    assert again.status_code == 400
    html = again.get_data(as_text=True)
    assert "A programme named &#39;Twice Rebate&#39; exists already." in html
    kept = dict(next(f for f in lxml.html.fromstring(html).forms if "baseline" in f.fields).form_values())
    assert kept["tiers-0-rate_pct"] == "3"
    assert _tiers_of(app, "Twice Rebate") == [(0, 150)]
