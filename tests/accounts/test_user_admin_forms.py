"""The Users pages through the test client: who reaches them, and refusals shown on the form."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from tests.web.helpers import count, sign_in, text


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def test_only_admins_reach_the_users_pages_and_only_their_own_people(app, client, demo):
    sign_in(client, "engineer")
    assert client.get("/users").status_code == 403
    assert client.get("/users/new").status_code == 403
    assert "Users</a>" not in text(client.get("/cases"))

    admin = app.test_client()
    sign_in(admin, "admin")
    assert admin.get("/users").status_code == 200
    assert admin.get(f"/users/{user_id(app, 'customer@acme.example')}").status_code == 200
    assert admin.get(f"/users/{user_id(app, 'customer@fabrikam.example')}").status_code == 404
    assert admin.get(f"/users/{user_id(app, 'gtac@vendor.example')}").status_code == 404


def test_an_invitation_to_a_used_email_is_refused_on_its_field(app, client, demo):
    csrf = sign_in(client, "admin")
    page = text(client.get("/users/new"))
    assert "Fabrikam" not in page and "Acme Corp (customer)" in page
    before = count(app, User)
    answer = client.post("/users/new", data={"csrf_token": csrf, "email": "engineer@contoso.example",
                                             "name": "Someone", "organisation": str(demo["admin"].organisation_id),
                                             "role": "partner_engineer"})
    assert answer.status_code == 409 and "Already used by another account." in text(answer)
    assert count(app, User) == before


def test_the_last_admin_cannot_be_demoted_on_the_page(app, client, demo):
    csrf = sign_in(client, "vendor_admin")
    admin = user_id(app, "admin@northwind.example")
    answer = client.post(f"/users/{admin}", data={"csrf_token": csrf, "name": "Noah Admin", "role": "partner_engineer"})
    assert answer.status_code == 409 and "is the last admin of Northwind Networks" in text(answer)
    answer = client.post(f"/users/{admin}/deactivation", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert "is the last admin of Northwind Networks" in text(client.get(answer.headers["Location"]))
    with app.app_context():
        assert db.session.get(User, admin).active
