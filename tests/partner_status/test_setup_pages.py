"""The level set and a partner's level, trainings and specialisations on the pages, without a browser:
what the programmes team does shows on the dashboard, a refused form says why and writes nothing,
other roles may not, and every partner's list comes a page at a time."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.accounts.models import Organisation, OrgKind, PartnerTier
from app.clock import now
from app.extensions import db
from app.uow import unit_of_work
from tests.partner_status.test_pages import _partner_id

pytestmark = pytest.mark.usefixtures("demo")


def day(n: int) -> str:
    return (now().date() + timedelta(days=n)).isoformat()


def _csrf(html: str) -> str:
    # Every form of a page carries the session's one token, under its own prefix.
    return re.search(r'name="[a-z]+-csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _option(html: str, label: str) -> str:
    return re.search(rf'<option (?:selected )?value="(\d+)"(?: selected)?>{re.escape(label)}', html).group(1)


def test_programs_define_a_level_on_the_levels_page(signed_in):
    desk = signed_in("programs")
    page = desk.get("/partner-status/levels")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Select" in html and "CERT-VOSS" in html
    answer = desk.post("/partner-status/levels", data={
        "level-csrf_token": _csrf(html), "level-name": "Gold", "level-rank": "4",
        "level-requirements-0-code": "CERT-WING", "level-requirements-0-kind": "certified_engineers",
        "level-requirements-0-subject": "WING", "level-requirements-0-minimum": "2",
        "level-requirements-0-deadline": day(90),
        "level-requirements-1-code": "", "level-requirements-1-kind": "training",
        "level-requirements-1-subject": "", "level-requirements-1-minimum": "1",
        "level-requirements-1-deadline": ""}, follow_redirects=True)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Level Gold defined with 1 requirement(s)." in body
    gold = body[body.index("4. Gold"):].split("</table>")[0]
    assert "CERT-WING" in gold and "Certified engineers of a product family: WING" in gold and day(90) in gold


@pytest.mark.parametrize("fields, status, says", [
    ({"level-requirements-0-subject": "Token Ring"}, 422, "No product is of the family Token Ring."),
    ({"level-requirements-0-deadline": ""}, 400, "Needed for a requirement with a code."),
    ({"level-name": "Premier"}, 409, "exists already"),
    ({"level-rank": "0"}, 400, "Check the fields marked below."),
])
def test_a_refused_level_says_why_and_writes_nothing(signed_in, row_counts, fields, status, says):
    desk = signed_in("programs")
    html = desk.get("/partner-status/levels").get_data(as_text=True)
    before = row_counts()
    answer = desk.post("/partner-status/levels", data={
        "level-csrf_token": _csrf(html), "level-name": "Gold", "level-rank": "4",
        "level-requirements-0-code": "CERT-X", "level-requirements-0-kind": "certified_engineers",
        "level-requirements-0-subject": "EXOS", "level-requirements-0-minimum": "1",
        "level-requirements-0-deadline": day(90), **fields})
    assert answer.status_code == status
    assert says in answer.get_data(as_text=True)
    assert row_counts() == before


def test_a_requirement_is_added_to_a_level_and_a_code_taken_is_refused(signed_in, row_counts):
    desk = signed_in("programs")
    html = desk.get("/partner-status/levels").get_data(as_text=True)
    select = _option(html, "Select")
    form = {"requirement-csrf_token": _csrf(html), "requirement-level_id": select, "requirement-code": "TRN-WIRELESS",
            "requirement-kind": "training", "requirement-subject": "Wireless Basics", "requirement-minimum": "1",
            "requirement-deadline": day(60)}
    added = desk.post("/partner-status/levels/requirements", data=form, follow_redirects=True)
    assert "Requirement TRN-WIRELESS added." in added.get_data(as_text=True)
    before = row_counts()
    again = desk.post("/partner-status/levels/requirements", data=form)
    assert again.status_code == 409 and "The level has TRN-WIRELESS already." in again.get_data(as_text=True)
    assert row_counts() == before


def test_programs_set_a_partners_level_and_record_training_and_specialisation(app, signed_in, row_counts):
    contoso = _partner_id(app, "Contoso Integrators")
    desk = signed_in("programs")
    html = desk.get(f"/partner-status/partners/{contoso}").get_data(as_text=True)
    token = _csrf(html)
    select, carl = _option(html, "Select"), _option(html, "Carl Contoso (engineer@contoso.example)")
    set_level = desk.post(f"/partner-status/partners/{contoso}/status", data={
        "status-csrf_token": token, "status-level_id": select, "status-valid_through": day(200),
        "status-next_review_on": day(100)}, follow_redirects=True)
    body = set_level.get_data(as_text=True)
    assert "Level set." in body and "Level Select" in body and day(200) in body

    before = row_counts()
    late = desk.post(f"/partner-status/partners/{contoso}/status", data={
        "status-csrf_token": token, "status-level_id": select, "status-valid_through": day(50),
        "status-next_review_on": day(100)})
    assert late.status_code == 422
    assert "On or before valid_through" in late.get_data(as_text=True)
    assert row_counts() == before

    trained = desk.post(f"/partner-status/partners/{contoso}/trainings", data={
        "training-csrf_token": token, "training-user_id": carl, "training-course": "Fabric Connect Essentials",
        "training-completed_on": day(-2)}, follow_redirects=True)
    body = trained.get_data(as_text=True)
    assert "Training recorded." in body and f"Fabric Connect Essentials, {day(-2)}" in body

    held = desk.post(f"/partner-status/partners/{contoso}/specialisations", data={
        "specialisation-csrf_token": token, "specialisation-name": "Wireless", "specialisation-starts_on": day(-1),
        "specialisation-ends_on": day(300)}, follow_redirects=True)
    assert f"Wireless: {day(-1)} to {day(300)} (active)" in held.get_data(as_text=True)


def test_an_engineer_of_another_partner_is_not_trained_on_this_partners_page(app, demo, signed_in, row_counts):
    contoso = _partner_id(app, "Contoso Integrators")
    desk = signed_in("programs")
    token = _csrf(desk.get(f"/partner-status/partners/{contoso}").get_data(as_text=True))
    before = row_counts()
    answer = desk.post(f"/partner-status/partners/{contoso}/trainings", data={
        "training-csrf_token": token, "training-user_id": str(demo["engineer"].id), "training-course": "Anything",
        "training-completed_on": day(-2)})
    assert answer.status_code == 404
    assert row_counts() == before


def test_partners_see_no_setup_forms_and_may_not_post_them(app, signed_in, row_counts):
    northwind = _partner_id(app, "Northwind Networks")
    admin = signed_in("admin")
    html = admin.get(f"/partner-status/partners/{northwind}").get_data(as_text=True)
    assert "Set the partner's level" not in html and "Record a training" not in html
    # The level set is theirs to read (what the next level asks), not to define.
    levels = admin.get("/partner-status/levels")
    assert levels.status_code == 200 and "Define a level" not in levels.get_data(as_text=True)
    vendor_admin = signed_in("vendor_admin")
    assert vendor_admin.get("/partner-status/levels").status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    before = row_counts()
    assert admin.post(f"/partner-status/partners/{northwind}/specialisations", data={
        "specialisation-csrf_token": token, "specialisation-name": "Wireless", "specialisation-starts_on": day(0),
        "specialisation-ends_on": day(9)}).status_code == 403
    vendor_token = re.search(r'name="csrf_token" value="([^"]+)"',
                             vendor_admin.get("/", follow_redirects=True).get_data(as_text=True)).group(1)
    assert vendor_admin.post("/partner-status/levels", data={
        "level-csrf_token": vendor_token, "level-name": "Gold", "level-rank": "4"}).status_code == 403
    assert row_counts() == before


def test_every_partners_list_is_paged_and_keeps_its_filters(app, signed_in):
    with app.app_context():
        with unit_of_work() as uow:
            uow.session.add_all(Organisation(name=f"Partner {n:02d}", kind=OrgKind.PARTNER, tier=PartnerTier.PW,
                                             region="APAC") for n in range(27))
        db.session.remove()
    desk = signed_in("programs")
    first = desk.get("/partner-status?region=APAC").get_data(as_text=True)
    names = re.findall(r">(Partner \d\d)</a>", first)
    assert names == [f"Partner {n:02d}" for n in range(25)]
    more = re.search(r'<a href="([^"]+)">Next page</a>', first).group(1).replace("&amp;", "&")
    assert "region=APAC" in more and "cursor=" in more
    second = desk.get(more).get_data(as_text=True)
    assert re.findall(r">(Partner \d\d)</a>", second) == ["Partner 25", "Partner 26"]
    assert "Next page" not in second and "First page" in second
    # The export link of a later page still holds every partner the filters keep.
    export = re.search(r'<a href="([^"]+)">Download as CSV</a>', second).group(1).replace("&amp;", "&")
    assert "cursor" not in export
    lines = desk.get(export).get_data(as_text=True).splitlines()[1:]
    assert len(lines) == 27
