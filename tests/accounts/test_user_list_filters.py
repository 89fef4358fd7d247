"""The users list filtered by role and organisation, as GET /api/v1/users allows: the filters offer
only what the admin may see, survive paging, and a value that is not one of their choices is a 400
that names the filter and shows no user."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import lxml.html
import sqlalchemy as sa

from app.accounts.models import Organisation, Role, User
from app.extensions import db
from tests.web.helpers import sign_in, text


def organisation_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name))


def emails(app, *where) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(User.email).join(User.organisation).where(*where)))


def listed(answer) -> set[str]:
    """The e-mails in the list's rows."""
    html = lxml.html.fromstring(text(answer))
    return {row.xpath("string(td[@data-label='E-mail'])").strip() for row in html.xpath("//tr[starts-with(@id, 'user-')]")}


def options(answer, name: str) -> dict[str, str]:
    """A select's options, value -> label."""
    html = lxml.html.fromstring(text(answer))
    return {option.get("value"): option.text_content().strip()
            for option in html.xpath(f"//select[@name='{name}']/option")}


def older_link(answer) -> str | None:
    found = lxml.html.fromstring(text(answer)).xpath("//a[@rel='next']/@href")
    return found[0] if found else None


def test_the_vendor_admin_filters_by_role_and_by_organisation(app, client, demo):
    sign_in(client, "vendor_admin")
    page = client.get("/users")
    assert options(page, "role")[""] == "Any" and options(page, "role")["partner_engineer"] == "partner engineer"
    assert {"", "customer", "partner_engineer", "partner_admin", "gtac_engineer", "gtac_manager", "programs",
            "vendor_admin"} == set(options(page, "role"))

    answer = client.get("/users", query_string={"role": "customer"})
    assert answer.status_code == 200
    assert listed(answer) == emails(app, User.role == Role.CUSTOMER) == {"customer@acme.example",
                                                                        "customer@fabrikam.example"}

    contoso = organisation_id(app, "Contoso Integrators")
    assert options(page, "organisation")[str(contoso)] == "Contoso Integrators (partner)"
    answer = client.get("/users", query_string={"organisation": contoso})
    assert answer.status_code == 200
    assert listed(answer) == emails(app, User.organisation_id == contoso)
    assert "engineer@contoso.example" in listed(answer) and "customer@fabrikam.example" not in listed(answer)

    both = client.get("/users", query_string={"organisation": contoso, "role": "customer"})
    assert both.status_code == 200 and listed(both) == set()
    assert "No user matches these filters." in text(both)
    clear = lxml.html.fromstring(text(both)).xpath("//a[text()='Clear filters']/@href")
    assert clear == ["/users"]


def test_a_partner_admin_chooses_among_its_own_organisation_and_its_customers_only(app, client, demo):
    sign_in(client, "admin")
    page = client.get("/users")
    northwind, acme = organisation_id(app, "Northwind Networks"), organisation_id(app, "Acme Corp")
    assert options(page, "organisation") == {"": "Any", str(northwind): "Northwind Networks (partner)",
                                             str(acme): "Acme Corp (customer)"}
    assert set(options(page, "role")) == {"", "customer", "partner_engineer", "partner_admin"}

    answer = client.get("/users", query_string={"organisation": acme})
    assert answer.status_code == 200 and listed(answer) == {"customer@acme.example"}


def test_another_partners_organisation_is_refused_and_shows_no_user(app, client, demo):
    sign_in(client, "admin")
    for other in ("Contoso Integrators", "Fabrikam Ltd", "Extreme GTAC"):
        answer = client.get("/users", query_string={"organisation": organisation_id(app, other)})
        assert answer.status_code == 400
        page = text(answer)
        assert "The organisation filter is not one of the choices" in page
        assert listed(answer) == set()
        assert "@contoso.example" not in page and "@fabrikam.example" not in page and "@vendor.example" not in page
        assert other not in page


def test_a_role_that_is_not_a_choice_is_a_400_naming_the_role_filter(app, client, demo):
    sign_in(client, "vendor_admin")
    for bad in ("wizard", " ", "CUSTOMER"):
        answer = client.get("/users", query_string={"role": bad})
        assert answer.status_code == 400
        assert "The role filter is not one of the choices" in text(answer)
        assert listed(answer) == set()
    partner_admin = app.test_client()
    sign_in(partner_admin, "admin")
    # A vendor's role is no choice for a partner's admin, whose list can never hold one.
    answer = partner_admin.get("/users", query_string={"role": "gtac_engineer"})
    assert answer.status_code == 400 and "The role filter" in text(answer)


def test_paging_keeps_the_role_and_organisation_filters(app, client, demo, monkeypatch):
    monkeypatch.setattr("app.accounts.users_views.PAGE_SIZE", 1)
    sign_in(client, "vendor_admin")
    seen = set()
    answer = client.get("/users", query_string={"role": "customer"})
    while True:
        assert answer.status_code == 200 and len(listed(answer)) == 1
        seen |= listed(answer)
        link = older_link(answer)
        if link is None:
            break
        assert parse_qs(urlsplit(link).query)["role"] == ["customer"]
        answer = client.get(link)
    assert seen == {"customer@acme.example", "customer@fabrikam.example"}

    partner_admin = app.test_client()
    sign_in(partner_admin, "admin")
    northwind = organisation_id(app, "Northwind Networks")
    first = partner_admin.get("/users", query_string={"organisation": northwind})
    link = older_link(first)
    assert link is not None and parse_qs(urlsplit(link).query)["organisation"] == [str(northwind)]
    second = partner_admin.get(link)
    assert older_link(second) is None
    assert listed(first) | listed(second) == emails(app, User.organisation_id == northwind) == {
        "engineer@northwind.example", "admin@northwind.example"}
