"""The vendor admin's pages do what the API does, through the same services; a refusal is shown on
the form that caused it and writes nothing; no other role gets in."""
from __future__ import annotations

import re

import pytest

from tests.administration.helpers import audit_actions, org_id, product_id
from tests.web.helpers import csrf_token, sign_in, text

PAGES = ("/admin", "/admin/partners", "/admin/customers", "/admin/products", "/admin/certifications")


def test_the_vendor_admin_starts_on_the_administration(client, demo):
    sign_in(client, "vendor_admin")
    answer = client.get("/")
    assert answer.headers["Location"].endswith("/admin")
    html = text(client.get("/admin"))
    assert 'href="/admin"' in html and "Administration" in html
    assert "2 partner(s)" in html and "5 certification(s), <strong>1 expired</strong>" in html


@pytest.mark.parametrize("who", ["engineer", "admin", "customer", "gtac", "manager", "programs"])
def test_no_other_role_opens_an_admin_page(app, client, demo, who):
    sign_in(client, who)
    northwind = org_id(app, "Northwind Networks")
    for path in (*PAGES, f"/admin/partners/{northwind}", f"/admin/customers/{org_id(app, 'Acme Corp')}"):
        assert client.get(path).status_code == 403, path
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert not [link for link in re.findall(r'href="([^"]+)"', text(home)) if link.startswith("/admin")]


def test_a_partner_is_added_edited_suspended_and_reinstated_on_its_pages(app, client, demo):
    token = sign_in(client, "vendor_admin")
    answer = client.post("/admin/partners", data={"csrf_token": token, "name": "Tailspin Networks", "tier": "PWP",
                                                  "region": "APAC"})
    assert answer.status_code == 303
    tailspin = org_id(app, "Tailspin Networks")
    page = text(client.get(answer.headers["Location"]))
    assert "Partner Tailspin Networks added." in page
    assert client.post(f"/admin/partners/{tailspin}", data={"csrf_token": token, "name": "Tailspin Ltd",
                                                            "tier": "PW", "region": "EMEA"}).status_code == 303
    assert client.post(f"/admin/partners/{tailspin}/suspension", data={"csrf_token": token}).status_code == 303
    page = text(client.get(f"/admin/partners/{tailspin}"))
    assert "Tailspin Ltd is suspended" in page and "Reinstate Tailspin Ltd" in page
    assert client.post(f"/admin/partners/{tailspin}/reinstatement", data={"csrf_token": token}).status_code == 303
    assert "Suspend Tailspin Ltd" in text(client.get(f"/admin/partners/{tailspin}"))
    assert [action for action, _ in audit_actions(app, "organisation", tailspin)] == [
        "partner.created", "partner.updated", "partner.suspended", "partner.reinstated"]


@pytest.mark.parametrize("form,message,status", [
    ({"name": "", "tier": "PW", "region": "EMEA"}, "Give a name.", 400),
    ({"name": "Tailspin", "tier": "Gold", "region": "EMEA"}, "Not a valid choice", 400),
    ({"name": "Tailspin", "tier": "PW", "region": "MARS"}, "Not a valid choice", 400),
    ({"name": "northwind networks", "tier": "PW", "region": "EMEA"}, "An organisation is already named Northwind Networks", 409),
])
def test_a_refused_partner_is_explained_on_the_form_and_nothing_is_written(client, demo, row_counts, form, message,
                                                                          status):
    token = sign_in(client, "vendor_admin")
    before = row_counts()
    answer = client.post("/admin/partners", data={"csrf_token": token, **form})
    assert answer.status_code == status
    assert message in text(answer) and "Partner not added" in text(answer)
    assert row_counts() == before


def test_a_customer_is_added_and_moved_on_its_pages(app, client, demo, row_counts):
    token = sign_in(client, "vendor_admin")
    northwind, contoso = org_id(app, "Northwind Networks"), org_id(app, "Contoso Integrators")
    before = row_counts()
    refused = client.post("/admin/customers", data={"csrf_token": token, "name": "Initech", "partner_id": "0"})
    assert refused.status_code == 422 and "choose one of the partners" in text(refused)
    assert row_counts() == before
    added = client.post("/admin/customers", data={"csrf_token": token, "name": "Initech", "partner_id": northwind})
    assert added.status_code == 303
    initech = org_id(app, "Initech")
    moved = client.post(f"/admin/customers/{initech}", data={"csrf_token": token, "name": "Initech",
                                                             "partner_id": contoso})
    assert moved.status_code == 303
    assert "served by Contoso Integrators" in text(client.get(moved.headers["Location"]))


def test_a_model_of_a_known_family_takes_its_spelling_and_a_duplicate_is_refused(app, client, demo, row_counts):
    token = sign_in(client, "vendor_admin")
    added = client.post("/admin/products", data={"csrf_token": token, "family": "exos", "model": "X590",
                                                 "name": "ExtremeSwitching X590"})
    assert added.status_code == 303
    assert "EXOS X590 (ExtremeSwitching X590) added." in text(client.get(added.headers["Location"]))
    before = row_counts()
    again = client.post("/admin/products", data={"csrf_token": token, "family": "Exos", "model": "x590",
                                                 "name": "Again"})
    assert again.status_code == 409 and "EXOS X590 is already a product" in text(again)
    assert row_counts() == before
    renamed = client.post(f"/admin/products/{product_id(app, 'X590')}",
                          data={"csrf_token": token, "family": "EXOS", "model": "X590", "name": "X590 switch"})
    assert renamed.status_code == 303


def test_certifications_are_listed_and_extended_on_their_page(client, demo, row_counts):
    token = sign_in(client, "vendor_admin")
    page = text(client.get("/admin/certifications?family=voss"))
    assert page.count("<tr>") == 1 + 2 and "expired" in page
    before = row_counts()
    refused = client.post("/admin/certifications/extensions", data={"csrf_token": token, "days": "0"})
    assert refused.status_code == 400 and "From 1 to 3660 days." in text(refused)
    assert row_counts() == before
    done = client.post("/admin/certifications/extensions", data={"csrf_token": token, "days": "60",
                                                                 "product_family": "VOSS"})
    assert done.status_code == 303
    page = text(client.get(done.headers["Location"]))
    assert "2 VOSS certification(s) extended by 60 day(s)." in page
    assert "<strong class=\"bad\">expired</strong>" not in page


def test_an_admin_form_posted_without_the_pages_token_is_refused_and_changes_nothing(app, client, demo,
                                                                                     row_counts):
    sign_in(client, "vendor_admin")
    northwind = org_id(app, "Northwind Networks")
    for path, data in (("/admin/partners", {"name": "Forged", "tier": "PW", "region": "EMEA"}),
                       (f"/admin/partners/{northwind}", {"name": "Forged", "tier": "PW", "region": "EMEA"}),
                       (f"/admin/partners/{northwind}/suspension", {}),
                       ("/admin/products", {"family": "EXOS", "model": "Forged", "name": "Forged"}),
                       ("/admin/certifications/extensions", {"days": "365"})):
        before = row_counts()
        assert client.post(path, data=data).status_code == 400, path
        assert row_counts() == before, path
