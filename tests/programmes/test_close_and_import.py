"""A period closed while a sales file is being imported: the import waits for the close and then
refuses the sale, rather than raising a rebate already claimed. PostgreSQL: its row locks."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.programmes.models import ProgrammePeriod, RebateProgramme, Sale
from app.extensions import db
from tests.programmes.helpers import import_lines, programme_with_q3

pytestmark = pytest.mark.usefixtures("demo")


def test_an_import_waits_for_a_close_under_way_and_then_refuses_its_sale(app, postgres):
    with app.app_context():
        programme, period = programme_with_q3()
        db.session.remove()
    closing = sa.create_engine(postgres)
    report = {}

    def run_import():
        with app.app_context():
            report["done"] = import_lines("Northwind Networks,INV-LATE,2025-09-30,EXOS,10.00,USD")
            db.session.remove()

    try:
        with closing.begin() as close:  # as close_period does: the programme locked, then the period closed
            close.execute(sa.select(RebateProgramme.id).where(RebateProgramme.id == programme.id).with_for_update())
            importer = threading.Thread(target=run_import)
            importer.start()
            importer.join(1.0)
            assert importer.is_alive(), "the import went on while the period was being closed"
            close.execute(sa.update(ProgrammePeriod).where(ProgrammePeriod.id == period.id)
                          .values(closed_at=sa.func.now()))
        importer.join(30)
    finally:
        closing.dispose()
    assert not importer.is_alive()
    assert report["done"].bad == ["q3.csv:2: Volume Rebate 2025-Q3 is closed and its rebates claimed: "
                                  "a new sale dated 2025-09-30 cannot count in it"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)
                                 .where(Sale.invoice_reference == "INV-LATE")) == 0
        db.session.remove()
