"""Programme pages without a browser: sales upload, period close, and who sees whose portal."""
from __future__ import annotations

import io
import re

import pytest

from app.programmes.models import Sale
from tests.programmes.helpers import HEADER, partner, programme_with_q3

pytestmark = pytest.mark.usefixtures("demo")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _sales(app) -> int:
    from app.extensions import db
    import sqlalchemy as sa

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Sale))


def test_a_bad_bookings_file_on_the_page_lists_its_lines_and_writes_nothing(app, signed_in):
    with app.app_context():
        programme_with_q3()
    browser = signed_in("programs")
    token = _csrf(browser.get("/programmes/sales").get_data(as_text=True))
    before = _sales(app)
    body = "\n".join([HEADER, "Northwind Networks,INV-P1,2025-08-01,EXOS,10.00,USD",
                      "Northwind Networks,INV-P2,2025-08-01,EXOS,-10.00,USD"]).encode()
    answer = browser.post("/programmes/sales", content_type="multipart/form-data",
                          data={"csrf_token": token, "bookings": (io.BytesIO(body), "week.csv")})
    assert answer.status_code == 400
    assert "week.csv:3: negative amount &#39;-10.00&#39;" in answer.get_data(as_text=True)
    assert _sales(app) == before
    answer = browser.post("/programmes/sales", content_type="multipart/form-data",
                          data={"csrf_token": token, "skip_bad": "y", "bookings": (io.BytesIO(body), "week.csv")})
    assert answer.status_code == 200 and "1 new" in answer.get_data(as_text=True)
    assert _sales(app) == before + 1


def test_closing_a_period_on_the_page_twice_creates_its_claims_once(app, signed_in):
    with app.app_context():
        programme, period = programme_with_q3()
    browser = signed_in("programs")
    page = f"/programmes/{programme.id}/periods/{period.id}"
    token = _csrf(browser.get(page).get_data(as_text=True))
    first = browser.post(f"{page}/close", data={"csrf_token": token}, follow_redirects=True)
    assert "closed: 0 rebate claim(s) wait for approval" in first.get_data(as_text=True)
    again = browser.post(f"{page}/close", data={"csrf_token": token}, follow_redirects=True)
    assert "was closed already; no claim was created again" in again.get_data(as_text=True)


def test_a_partner_sees_its_own_portal_and_never_another_partners(app, signed_in):
    with app.app_context():
        programme, period = programme_with_q3()
        contoso = partner("Contoso Integrators").id
        northwind = partner("Northwind Networks").id
    engineer = signed_in("engineer")
    own = engineer.get("/rebates")
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    assert "Rebates: Northwind Networks" in html and "<svg" in html and "<script" not in html.split("</main>")[0]
    assert engineer.get(f"/programmes/{programme.id}/periods/{period.id}/partners/{contoso}").status_code == 404
    assert engineer.get(f"/programmes/{programme.id}/periods/{period.id}/partners/{northwind}").status_code == 200
    assert signed_in("contoso").get(f"/programmes/{programme.id}/periods/{period.id}/partners/{northwind}"
                                    ).status_code == 404
    assert signed_in("customer").get("/rebates").status_code == 403
    assert engineer.get(f"/programmes/{programme.id}").status_code == 403


def test_a_partner_in_several_programmes_goes_from_one_portal_to_another(app, signed_in):
    with app.app_context():
        other, other_period = programme_with_q3("Services Rebate")
        northwind = partner("Northwind Networks").id
    engineer = signed_in("engineer")
    html = engineer.get("/rebates").get_data(as_text=True)
    shown = re.search(r'<nav aria-label="Programmes"><p>([^<]+)\. Other programmes:', html).group(1)
    link = f"/programmes/{other.id}/periods/{other_period.id}/partners/{northwind}"
    assert shown != "Services Rebate" and f'<a href="{link}">Services Rebate</a>' in html
    there = engineer.get(link).get_data(as_text=True)
    assert "Services Rebate. Other programmes:" in there and f">{shown}</a>" in there


def test_a_partners_portal_is_read_in_one_unit_with_its_own_targets_only(app, signed_in, monkeypatch):
    """The programmes team opening one partner's portal: one transaction, and the target history of that
    partner alone (not of every partner in the programme)."""
    import app.uow as uow_module
    from app.programmes import portal

    with app.app_context():
        programme, period = programme_with_q3()
        northwind = partner("Northwind Networks").id
    team = signed_in("programs")
    address = f"/programmes/{programme.id}/periods/{period.id}/partners/{northwind}"
    assert team.get(address).status_code == 200  # the sign-in's session is saved once, on its first page
    units, histories = [], []
    begin, target_rows = uow_module.begin, portal.target_rows
    monkeypatch.setattr(uow_module, "begin", lambda session=None: units.append(1) or begin(session))
    monkeypatch.setattr(portal, "target_rows", lambda session, programme, period, partners: histories.append(
        [name for _, name in partners]) or target_rows(session, programme, period, partners))
    answer = team.get(address)
    assert answer.status_code == 200 and "Rebates: Northwind Networks" in answer.get_data(as_text=True)
    assert len(units) == 1 and histories == [["Northwind Networks"]]


def test_a_portal_asked_for_a_period_of_another_programme_shows_its_own_current_period(app, signed_in):
    with app.app_context():
        programme, period = programme_with_q3()
        northwind = partner("Northwind Networks").id
    engineer = signed_in("engineer")
    links = re.findall(r'/programmes/(\d+)/periods/(\d+)/partners/', engineer.get("/rebates").get_data(as_text=True))
    # A period of the demo's programme, asked for in this one's address.
    elsewhere = next(period_id for programme_id, period_id in links if int(programme_id) != programme.id)
    html = engineer.get(f"/programmes/{programme.id}/periods/{elsewhere}/partners/{northwind}").get_data(as_text=True)
    assert re.search(rf'periods/{period.id}/partners/{northwind}" aria-current="page">2025-Q3<', html)
    assert '<h2 id="status-h">2025-Q3:' in html
