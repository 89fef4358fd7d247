"""Every partner's certifications for the vendor admin, and programme-wide extensions of their expiry
dates through the same use case as `flask certifications extend`."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.clock import now
from app.extensions import db
from tests.administration.helpers import org_id
from tests.api.conftest import assert_error, check_each

CERTIFICATIONS = "/api/v1/admin/certifications"
EXTENSIONS = "/api/v1/admin/certifications/extensions"


def rows(client, tokens, **query):
    answer = client.get(CERTIFICATIONS, query_string=query, headers=tokens["vendor_admin"])
    assert answer.status_code == 200, answer.json
    return [(c["email"], c["partner"]["name"], c["product_family"], c["expired"]) for c in answer.json]


def test_the_vendor_admin_sees_every_partners_certifications(client, tokens):
    assert rows(client, tokens) == [
        ("engineer@contoso.example", "Contoso Integrators", "EXOS", False),
        ("engineer@contoso.example", "Contoso Integrators", "VOSS", True),
        ("engineer@northwind.example", "Northwind Networks", "EXOS", False),
        ("engineer@northwind.example", "Northwind Networks", "VOSS", False),
        ("engineer@northwind.example", "Northwind Networks", "WING", False),
    ]


def test_certifications_filter_by_partner_and_by_family_in_any_case(app, client, tokens):
    contoso = org_id(app, "Contoso Integrators")
    assert [r[2] for r in rows(client, tokens, partner_id=contoso)] == ["EXOS", "VOSS"]
    assert [r[0] for r in rows(client, tokens, product_family="voss")] == [
        "engineer@contoso.example", "engineer@northwind.example"]


def test_an_extension_moves_the_matching_certifications_and_records_who_asked(app, client, tokens):
    answer = client.post(EXTENSIONS, json={"days": 60, "product_family": "voss"}, headers=tokens["vendor_admin"])
    assert answer.status_code == 200, answer.json
    assert answer.json == {"extended": 2, "days": 60}
    # Contoso's VOSS certification expired 30 days ago: 60 days later it is valid again.
    assert ("engineer@contoso.example", "Contoso Integrators", "VOSS", False) in rows(client, tokens)
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).filter_by(action="certification.extended")).all()
        assert len(events) == 2
        assert {event.actor.email for event in events} == {"vendor-admin@vendor.example"}


def test_an_extension_limited_to_those_expiring_before_a_day(client, tokens):
    soon = (now().date() + timedelta(days=1)).isoformat()
    answer = client.post(EXTENSIONS, json={"days": 45, "expiring_before": soon}, headers=tokens["vendor_admin"])
    assert answer.json == {"extended": 1, "days": 45}
    assert [r for r in rows(client, tokens) if r[3]] == []


def test_an_extension_leaves_a_certification_expiring_beyond_any_date_a_file_may_give(app, client, tokens):
    from app.accounts.models import Certification

    with app.app_context():  # kept from before the imports refused such dates
        held = db.session.scalars(sa.select(Certification).filter_by(product_family="WING")).one()
        held.expires_on = date(9999, 12, 1)
        db.session.commit()
    answer = client.post(EXTENSIONS, json={"days": 3660}, headers=tokens["vendor_admin"])
    assert answer.status_code == 200, answer.json
    assert answer.json == {"extended": 4, "days": 3660}
    with app.app_context():
        assert db.session.scalars(sa.select(Certification.expires_on).filter_by(product_family="WING")).one() == \
            date(9999, 12, 1)


BAD_EXTENSIONS = {
    "no days": {"product_family": "EXOS"},
    "zero days": {"days": 0},
    "negative days": {"days": -30},
    "days as text": {"days": "30"},
    "days not whole": {"days": 1.5},
    "ten years and more": {"days": 3661},
    "not a date": {"days": 30, "expiring_before": "next week"},
    "blank family": {"days": 30, "product_family": ""},
    "family too long": {"days": 30, "product_family": "F" * 33},
}


def test_bad_extensions_are_refused_and_change_nothing(client, tokens, row_counts):
    def check(name, body):
        before = row_counts()
        assert_error(client.post(EXTENSIONS, json=body, headers=tokens["vendor_admin"]), 400, "invalid_input")
        assert row_counts() == before

    check_each(list(BAD_EXTENSIONS.items()), check)


def test_the_command_line_extension_is_the_same_use_case(app, demo):
    runner = app.test_cli_runner()
    answer = runner.invoke(args=["certifications", "extend", "--days", "30", "--family", "WING"])
    assert answer.exit_code == 0, answer.output
    assert "extended 1 certification(s)" in answer.output
