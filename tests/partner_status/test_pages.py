"""Partner status pages without a browser: who sees whose dashboard, the CSV export, and the change
desk's refusals (a bad change on the page writes nothing)."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Organisation, OrgKind, PartnerTier
from app.clock import now
from app.extensions import db
from app.uow import unit_of_work

pytestmark = pytest.mark.usefixtures("demo")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _partner_id(app, name: str) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name))
        db.session.remove()
    return found


def test_a_partner_opens_its_own_dashboard_and_not_another(app, signed_in):
    engineer = signed_in("engineer")
    own = engineer.get("/partner-status")
    assert own.status_code == 200 and "Performance &amp; training: Northwind Networks" in own.get_data(as_text=True)
    assert engineer.get(f"/partner-status/partners/{_partner_id(app, 'Contoso Integrators')}").status_code == 404
    assert engineer.get("/partner-status/changes").status_code == 403
    assert signed_in("customer").get("/partner-status").status_code == 403


def test_the_csv_export_holds_the_filtered_partners(signed_in):
    export = signed_in("programs").get("/partner-status/partners.csv?tier=PWP")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    lines = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["partner"], r["level"], r["requirements_met"], r["requirements"], r["unmet"], r["waived"],
             r["programme"]) for r in lines] == [
        ("Northwind Networks", "Select", "3", "5", "CERT-EXOS;SPEC-WIRELESS", "SPEC-WIRELESS", "Growth Rebate")]
    own = list(csv.DictReader(io.StringIO(signed_in("contoso").get("/partner-status/partners.csv")
                                          .get_data(as_text=True))))
    assert [r["partner"] for r in own] == ["Contoso Integrators"]


def test_a_deadline_pushed_earlier_on_the_page_is_refused_and_changes_nothing(app, signed_in, row_counts):
    desk = signed_in("programs")
    html = desk.get("/partner-status/changes").get_data(as_text=True)
    requirement = re.search(r'<option value="(\d+)">Select: CERT-EXOS</option>', html).group(1)
    before = row_counts()
    answer = desk.post("/partner-status/changes", data={
        "csrf_token": _csrf(html), "kind": "push_deadline", "requirement_id": requirement, "tier": "", "region": "",
        "new_date": (now().date() + timedelta(days=10)).isoformat(), "reason": "Too early", "action": "apply"})
    assert answer.status_code == 400
    assert "A deadline is pushed later than" in answer.get_data(as_text=True)
    assert row_counts() == before


def test_a_review_moved_past_a_partners_level_is_refused_on_the_preview_and_changes_nothing(app, signed_in,
                                                                                            row_counts):
    desk = signed_in("programs")
    html = desk.get("/partner-status/changes").get_data(as_text=True)
    before = row_counts()
    answer = desk.post("/partner-status/changes", data={
        "csrf_token": _csrf(html), "kind": "move_review", "tier": "", "region": "",
        "new_date": (now().date() + timedelta(days=200)).isoformat(), "reason": "", "action": "preview"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    # Contoso holds its level through day 120: the page says whose level ends first, and shows no preview.
    assert "Contoso Integrators holds its level through " + (now().date() + timedelta(days=120)).isoformat() in page
    assert 'id="preview-h"' not in page
    assert row_counts() == before


def test_a_change_is_previewed_then_applied_on_the_page(app, signed_in):
    desk = signed_in("programs")
    html = desk.get("/partner-status/changes").get_data(as_text=True)
    form = {"csrf_token": _csrf(html), "kind": "move_review", "tier": "PW",
            "new_date": (now().date() + timedelta(days=100)).isoformat(), "reason": "Review moved"}
    preview = desk.post("/partner-status/changes", data={**form, "action": "preview"})
    page = preview.get_data(as_text=True)
    shown = page[page.index('id="preview-h"'):].split("</section>")[0]
    assert preview.status_code == 200 and "Contoso Integrators" in shown and "Northwind Networks" not in shown
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page).group(1)
    applied = desk.post("/partner-status/changes", data={**form, "action": "apply", "digest": digest})
    assert applied.status_code == 303
    body = desk.get(f"/partner-status/partners/{_partner_id(app, 'Contoso Integrators')}").get_data(as_text=True)
    assert (now().date() + timedelta(days=100)).isoformat() in body


def test_a_partner_name_like_a_formula_is_exported_as_text(app, signed_in):
    with app.app_context():
        with unit_of_work() as uow:
            uow.session.add(Organisation(name='=HYPERLINK("http://evil.example")', kind=OrgKind.PARTNER,
                                         tier=PartnerTier.PW, region="APJ"))
    lines = list(csv.DictReader(io.StringIO(signed_in("programs").get("/partner-status/partners.csv?region=APJ")
                                            .get_data(as_text=True))))
    assert [r["partner"] for r in lines] == ['\'=HYPERLINK("http://evil.example")']


def test_a_partner_reads_every_level_and_what_it_requires_from_its_dashboard(signed_in):
    engineer = signed_in("engineer")
    dashboard = engineer.get("/partner-status").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Every level and what it requires</a>', dashboard).group(1)
    levels = engineer.get(link)
    html = levels.get_data(as_text=True)
    # Northwind is at Select; the level set names the others and their requirements too.
    assert levels.status_code == 200 and "Select" in html and "Registered" in html and "CERT-EXOS" in html
    assert "<form" not in html.split("</main>")[0].split("<main")[1]
    assert "Every level and what it requires" not in signed_in("programs").get(
        "/partner-status/partners/1").get_data(as_text=True)
