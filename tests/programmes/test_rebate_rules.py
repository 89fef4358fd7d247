"""Rebate rules a programme manager and a partner notice: tiers, the history of targets, exact money."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.errors import Conflict, RuleViolation
from app.extensions import db
from app.programmes import attainment, closing, services, targets
from app.programmes.models import Sale
from tests.programmes.helpers import import_lines, partner, programme_with_q3, user

pytestmark = pytest.mark.usefixtures("demo", "ctx")


@pytest.mark.parametrize("sold, rate, rebate", [
    ("79999.99", 0, 0),            # just below 80 %: nothing
    ("80000.00", 200, 160000),     # 80 %: 2 %
    ("99999.99", 200, 199999),     # below 100 %: 2 %, rounded down to the cent
    ("100000.00", 400, 400000),    # 100 %: 4 %
])
def test_the_tier_reached_sets_the_rate(sold, rate, rebate):
    programme, period = programme_with_q3()
    import_lines(f"Northwind Networks,INV-1,2025-08-01,EXOS,{sold},USD")
    _, found = attainment.partner_attainment(user("programs@vendor.example"), programme.id, period.id,
                                             partner("Northwind Networks").id)
    assert (found.rate_bp, found.rebate) == (rate, rebate)


def test_sales_before_an_alleviation_are_judged_against_the_old_target():
    programme, period = programme_with_q3()
    programs = user("programs@vendor.example")
    northwind = partner("Northwind Networks")
    import_lines("Northwind Networks,INV-1,2025-07-10,EXOS,40000.00,USD",
                 "Northwind Networks,INV-2,2025-09-10,EXOS,40000.00,USD")
    # 50 % lower from 16 August: 46 days at 100,000.00 and 46 days at 50,000.00.
    targets.apply_alleviation(programs, programme.id, date(2025, 8, 16), 5000, "Shortage")
    _, found = attainment.partner_attainment(programs, programme.id, period.id, northwind.id)
    before, after = found.segments
    assert (before.starts_on, before.ends_on, before.target) == (date(2025, 7, 1), date(2025, 8, 15), 10_000_000)
    assert (after.starts_on, after.target) == (date(2025, 8, 16), 5_000_000)
    assert (before.share, after.share) == (5_000_000, 2_500_000)
    assert (before.sales, after.sales) == (4_000_000, 4_000_000)
    assert found.target == 7_500_000  # not 5,000,000: the old target still holds for the first half
    assert (found.attainment_bp, found.rate_bp, found.rebate) == (10666, 400, 320_000)


def test_an_alleviation_preview_lists_the_filtered_partners_and_applies_the_same():
    programme, _period = programme_with_q3()
    programs = user("programs@vendor.example")
    preview = targets.preview_alleviation(programs, programme.id, date(2025, 8, 1), 1500, tier="PW")
    assert [(r.partner_name, r.old_target, r.new_target) for r in preview.rows] == [
        ("Contoso Integrators", 10_000_000, 8_500_000)]
    _alleviation, applied = targets.apply_alleviation(programs, programme.id, date(2025, 8, 1), 1500, "Shortage",
                                                      tier="PW", preview_digest=preview.digest)
    assert applied.rows == preview.rows
    # The same preview cannot be applied again: the targets it showed are no longer the targets.
    with pytest.raises(Conflict) as refused:
        targets.apply_alleviation(programs, programme.id, date(2025, 8, 1), 1500, "Again", tier="PW",
                                  preview_digest=preview.digest)
    assert refused.value.code == "preview_stale"


def test_a_target_change_dated_in_a_closed_period_is_refused():
    programme, period = programme_with_q3()
    programs = user("programs@vendor.example")
    closing.close_period(programs, programme.id, period.id)
    with pytest.raises(RuleViolation) as refused:
        targets.apply_alleviation(programs, programme.id, date(2025, 9, 1), 1000, "Late")
    assert refused.value.code == "period_closed"
    with pytest.raises(RuleViolation):
        targets.set_target(programs, programme.id, partner("Northwind Networks").id, 5_000_000, date(2025, 9, 1))


def test_the_same_file_twice_changes_nothing():
    programme_with_q3()
    rows = ("Northwind Networks,INV-1,2025-08-01,EXOS,100.00,USD", "Contoso Integrators,INV-2,2025-08-02,VOSS,5,USD")
    first = import_lines(*rows)
    again = import_lines(*rows)
    assert (first.created, first.unchanged, first.written) == (2, 0, True)
    assert (again.created, again.unchanged, again.bad_count) == (0, 2, 0)


def _sales() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Sale))


def test_every_bad_line_is_reported_and_nothing_is_written():
    programme_with_q3()
    before = _sales()
    report = import_lines("Northwind Networks,INV-1,2025-08-01,EXOS,100.00,USD",
                          "Nobody Ltd,INV-2,2025-08-01,EXOS,100.00,USD",
                          "Northwind Networks,INV-3,2025-08-01,EXOS,-5.00,USD",
                          "Northwind Networks,INV-4,2025-08-01,EXOS,lots,USD",
                          "Northwind Networks,INV-5,2025-08-01,EXOS,5.00,XYZ",
                          "Northwind Networks,INV-6,2030-01-01,EXOS,5.00,USD",
                          "Northwind Networks,INV-7,2025-08-01,EXOS,5.00,EUR")
    assert report.bad == [
        "q3.csv:3: unknown partner 'Nobody Ltd'",
        "q3.csv:4: negative amount '-5.00'",
        "q3.csv:5: amount 'lots' is not a decimal number",
        "q3.csv:6: unknown currency 'XYZ'",
        "q3.csv:7: date 2030-01-01 is outside every programme period",
        "q3.csv:8: no programme period on 2025-08-01 counts sales in EUR"]
    assert not report.written
    assert _sales() == before
    skipped = import_lines("Northwind Networks,INV-1,2025-08-01,EXOS,100.00,USD",
                           "Nobody Ltd,INV-2,2025-08-01,EXOS,100.00,USD", skip_bad=True)
    assert (skipped.created, skipped.bad_count, skipped.written) == (1, 1, True)


def test_a_dry_run_writes_nothing():
    programme_with_q3()
    before = _sales()
    report = import_lines("Northwind Networks,INV-1,2025-08-01,EXOS,100.00,USD", dry_run=True)
    assert (report.created, report.written) == (1, False)
    assert _sales() == before


def test_a_long_file_is_imported_a_chunk_at_a_time(monkeypatch):
    """The lines are read as they come and the session never holds more than a chunk of bookings."""
    from app.programmes import sales

    programme_with_q3()
    monkeypatch.setattr(sales, "CHUNK", 100)
    held = []

    def lines():
        yield "partner,invoice_reference,date,product_family,amount,currency"
        for n in range(3000):
            held.append(sum(isinstance(o, Sale) for o in db.session.identity_map.values()))
            yield f"Northwind Networks,INV-L{n},2025-08-01,EXOS,1.00,USD"

    report = sales.import_sales(user("programs@vendor.example"), lines(), "long.csv")
    assert (report.created, report.written) == (3000, True)
    assert max(held) <= 100


def test_a_target_set_from_a_page_read_before_its_quarter_closed_is_refused(app):
    # The programme page keeps the programme and its quarters it read while its form is handled; another
    # request closes the quarter in between. The change must see the quarter closed, not as the page read it.
    programme, period = programme_with_q3()
    programs = user("programs@vendor.example")
    shown = services.get_programme(programs, programme.id)  # the page's read, in a unit that ends
    with app.app_context():
        closing.close_period(user("programs@vendor.example"), programme.id, period.id)
    assert [p.closed_at for p in shown.periods] == [None]  # the page's copy
    with pytest.raises(RuleViolation) as refused:
        targets.set_target(programs, programme.id, partner("Northwind Networks").id, 5_000_000, date(2025, 9, 1))
    assert refused.value.code == "period_closed"
