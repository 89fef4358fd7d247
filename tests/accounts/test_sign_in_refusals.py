"""Who may sign in with a password: the same rule as for single sign-on (app/accounts/eligibility.py).
A deactivated user, or one of a suspended partner or of a customer that partner serves, is told why
once the password is right; a wrong password still tells nothing."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from app.accounts.models import LoginFailure, Organisation
from app.accounts.services import deactivate_user
from app.extensions import db
from tests.conftest import DEMO_EMAILS, basic
from tests.web.helpers import csrf_token, text


def suspend(app, name: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(Organisation).where(Organisation.name == name)
                           .values(suspended_at=datetime.now(timezone.utc)))
        db.session.commit()


def sign_in(client, who: str, password: str = "demo-password"):
    token = csrf_token(text(client.get("/login")))
    return client.post("/login", data={"email": DEMO_EMAILS[who], "password": password, "csrf_token": token})


def test_users_of_a_suspended_partner_and_its_customers_are_told_why_and_stay_signed_out(app, client, demo):
    suspend(app, "Northwind Networks")

    answer = sign_in(client, "engineer")
    assert answer.status_code == 403
    assert "Northwind Networks is suspended by the vendor" in text(answer)
    assert client.get("/cases").status_code == 302
    answer = sign_in(app.test_client(), "customer")
    assert answer.status_code == 403
    assert "Northwind Networks is suspended by the vendor: its users and its customers&#39; users" in text(answer)
    # Another partner's people are not touched.
    assert sign_in(app.test_client(), "contoso").status_code == 302


def test_a_wrong_password_for_a_suspended_or_deactivated_user_tells_nothing_more(app, client, demo):
    suspend(app, "Northwind Networks")
    with app.app_context():
        deactivate_user(DEMO_EMAILS["admin"])

    for who in ("engineer", "admin"):
        answer = sign_in(client, who, password="not-the-password")
        assert answer.status_code == 401
        assert "Wrong e-mail or password." in text(answer) and "suspended" not in text(answer)


def test_a_deactivated_user_with_the_right_password_is_told_so_and_it_counts_as_no_failure(app, client, demo):
    with app.app_context():
        deactivate_user(DEMO_EMAILS["engineer"])

    answer = sign_in(client, "engineer")
    assert answer.status_code == 403
    assert "This account has been deactivated" in text(answer)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0


def test_the_api_refuses_a_token_to_a_user_of_a_suspended_partner(app, client, demo):
    suspend(app, "Northwind Networks")

    answer = client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["engineer"]))
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "organisation_suspended"
    assert client.post("/api/v1/tokens", headers=basic(DEMO_EMAILS["contoso"])).status_code == 201


def test_a_user_deactivated_while_their_password_is_checked_is_refused(app, client, demo, monkeypatch):
    from app.accounts import services

    verify = services.verify_password

    def deactivated_meanwhile(stored, password):
        with app.app_context():  # an administrator, in another request
            deactivate_user(DEMO_EMAILS["engineer"])
        return verify(stored, password)

    monkeypatch.setattr(services, "verify_password", deactivated_meanwhile)
    answer = sign_in(client, "engineer")
    assert answer.status_code == 403 and "This account has been deactivated" in text(answer)
    assert client.get("/cases").status_code == 302  # not signed in


def test_the_old_password_does_not_sign_in_once_it_was_changed_while_being_checked(app, client, demo, monkeypatch):
    from app.accounts import services

    verify = services.verify_password

    def changed_meanwhile(stored, password):
        with app.app_context():  # the owner, in another request
            services.set_password(DEMO_EMAILS["engineer"], "a-brand-new-passphrase")
        return verify(stored, password)

    monkeypatch.setattr(services, "verify_password", changed_meanwhile)
    answer = sign_in(client, "engineer")
    assert answer.status_code == 401 and "Wrong e-mail or password." in text(answer)
