"""Signing in through the vendor's identity provider: a real OpenID provider on loopback
(tests/oidc), driven by plain HTTP as a browser without JavaScript drives it. The trip in a real
browser is tests/accounts/test_single_sign_on_page.py."""
from __future__ import annotations

import re
import socket
from datetime import datetime, timezone
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
import requests
import sqlalchemy as sa

from app.accounts import provider_client
from app.accounts.models import Organisation, Role, User, WebSession
from app.accounts.services import deactivate_user
from app.audit.models import AuditEvent
from app.extensions import db
from tests.conftest import DEMO_EMAILS
from tests.oidc_provider import (UNVERIFIED, WITHOUT_EMAIL, OpenIDProvider, sign_in_through_provider,
                                 start_sign_in)


def signed_in(http: requests.Session, base_url: str) -> bool:
    """Whether this browser's session opens a page only signed-in users see."""
    return http.get(f"{base_url}/home", allow_redirects=False).status_code == 200


def sessions(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(WebSession.user_id).where(WebSession.user_id.is_not(None))))


def suspend(app, name: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(Organisation).where(Organisation.name == name)
                           .values(suspended_at=datetime.now(timezone.utc)))
        db.session.commit()


def refused(answer: requests.Response, status: int, reason: str, app) -> None:
    assert answer.status_code == status, answer.text[:2000]
    assert urlsplit(answer.url).path == "/login/sso/callback"
    assert reason in answer.text
    assert 'role="alert"' in answer.text
    assert sessions(app) == []


def test_an_engineer_is_signed_in_on_the_same_session_and_start_page_as_with_a_password(
        app, demo, live_server, single_sign_on):
    http = requests.Session()
    answer = sign_in_through_provider(http, live_server, DEMO_EMAILS["engineer"])

    assert answer.status_code == 200
    assert urlsplit(answer.url).path == "/cases"
    assert sessions(app) == [demo["engineer"].id]
    assert signed_in(http, live_server)
    # The same kind of session as a password gives: the cookie holds only its id.
    cookie = http.cookies.get("session")
    assert cookie and "." not in cookie


def test_the_e_mail_is_matched_whatever_its_case_and_the_asked_page_opens(app, demo, live_server, single_sign_on):
    http = requests.Session()
    answer = sign_in_through_provider(http, live_server, "Customer@ACME.example", next_path="/my/requests/new")

    assert answer.status_code == 200
    assert urlsplit(answer.url).path == "/my/requests/new"
    assert sessions(app) == [demo["customer"].id]


def test_an_unknown_e_mail_is_refused_and_no_account_is_made(app, demo, live_server, single_sign_on):
    answer = sign_in_through_provider(requests.Session(), live_server, "stranger@northwind.example")

    refused(answer, 403, "No GTAC Triage account has the e-mail address stranger@northwind.example", app)
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "stranger@northwind.example")) is None


def test_a_deactivated_user_is_refused(app, demo, live_server, single_sign_on):
    with app.app_context():
        deactivate_user(DEMO_EMAILS["engineer"])

    answer = sign_in_through_provider(requests.Session(), live_server, DEMO_EMAILS["engineer"])
    refused(answer, 403, "This account has been deactivated", app)


def test_users_of_a_suspended_partner_and_of_its_customers_are_refused(app, demo, live_server, single_sign_on):
    suspend(app, "Northwind Networks")

    answer = sign_in_through_provider(requests.Session(), live_server, DEMO_EMAILS["engineer"])
    refused(answer, 403, "Northwind Networks is suspended by the vendor", app)
    answer = sign_in_through_provider(requests.Session(), live_server, DEMO_EMAILS["customer"])
    refused(answer, 403, "its customers&#39; users cannot sign in", app)

    other = requests.Session()
    assert sign_in_through_provider(other, live_server, DEMO_EMAILS["contoso"]).status_code == 200
    assert sessions(app) == [demo["contoso"].id]


def test_an_e_mail_the_provider_has_not_verified_is_refused(app, demo, live_server, single_sign_on):
    answer = sign_in_through_provider(requests.Session(), live_server, UNVERIFIED)
    refused(answer, 403, "has not verified the e-mail address engineer@northwind.example", app)


def test_an_identity_without_an_e_mail_is_refused(app, demo, live_server, single_sign_on):
    answer = sign_in_through_provider(requests.Session(), live_server, WITHOUT_EMAIL)
    refused(answer, 403, "did not send an e-mail address", app)


def test_an_answer_for_a_sign_in_this_browser_did_not_start_is_refused(app, demo, live_server, single_sign_on):
    victim = requests.Session()
    answer = sign_in_through_provider(victim, live_server, DEMO_EMAILS["engineer"])
    callback = answer.history[-1].url  # the provider's redirect back, with its code and state
    assert urlsplit(callback).path == "/login/sso/callback" and "state=" in callback

    # Another browser (one that never started a sign-in) replays the answer: refused, nobody signed in.
    stranger = requests.Session()
    replayed = stranger.get(callback)
    assert replayed.status_code == 400
    assert "This sign-in was not started from this browser" in replayed.text
    assert not signed_in(stranger, live_server)

    # A browser that started its own sign-in but is handed a state of another's is refused too.
    forger = requests.Session()
    start_sign_in(forger, live_server)
    forged = forger.get(callback)
    assert forged.status_code == 400 and not signed_in(forger, live_server)
    assert sessions(app) == [demo["engineer"].id]


def test_no_account_is_made_for_the_vendors_domain_unless_the_setting_allows_it(
        app, demo, live_server, single_sign_on, monkeypatch):
    newcomer = "new.engineer@vendor.example"
    answer = sign_in_through_provider(requests.Session(), live_server, newcomer)
    refused(answer, 403, f"No GTAC Triage account has the e-mail address {newcomer}", app)

    monkeypatch.setitem(app.config, "OIDC_AUTO_CREATE_DOMAIN", "vendor.example")
    # Only the vendor's own domain: another's address, or a domain merely ending like it, gets nothing.
    for outsider in ("new.engineer@northwind.example", "new.engineer@evil-vendor.example"):
        refused(sign_in_through_provider(requests.Session(), live_server, outsider), 403,
                "No GTAC Triage account has the e-mail address", app)

    http = requests.Session()
    answer = sign_in_through_provider(http, live_server, newcomer)
    assert answer.status_code == 200 and urlsplit(answer.url).path == "/srs"
    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.email == newcomer)).one()
        assert user.role is Role.GTAC_ENGINEER and user.organisation.name == "Extreme GTAC"
        created = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.entity_type == "user", AuditEvent.entity_id == str(user.id))).all()
        assert [event.action for event in created] == ["user.created"]
        assert created[0].after["by"] == "single sign-on"
        user_id = user.id
        db.session.remove()
    assert sessions(app) == [user_id]
    # The account has no password of its own: the password form does not open it.
    login = requests.post(f"{live_server}/api/v1/tokens", auth=(newcomer, "single-sign-on"))
    assert login.status_code == 401


def test_without_settings_there_is_no_button_and_no_way_in(app, demo, live_server):
    http = requests.Session()
    assert "Sign in with" not in http.get(f"{live_server}/login").text
    assert http.get(f"{live_server}/login/sso", allow_redirects=False).status_code == 404
    assert http.get(f"{live_server}/login/sso/callback?code=x&state=y").status_code == 404


def test_a_provider_that_does_not_answer_is_said_so_on_the_login_page(app, demo, live_server, monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    for key, value in {"OIDC_DISCOVERY_URL": f"http://127.0.0.1:{port}/.well-known/openid-configuration",
                       "OIDC_CLIENT_ID": "gtac", "OIDC_CLIENT_SECRET": "secret",
                       "OIDC_DISPLAY_NAME": "Vendor Identity", "OIDC_TIMEOUT_SECONDS": 2}.items():
        monkeypatch.setitem(app.config, key, value)

    answer = start_sign_in(requests.Session(), live_server)
    assert answer.status_code == 502
    assert "Vendor Identity did not answer as expected" in answer.text and 'role="alert"' in answer.text


def test_cancelling_at_the_provider_comes_back_to_the_login_page_with_the_reason(app, demo, live_server,
                                                                               single_sign_on):
    http = requests.Session()
    at_provider = start_sign_in(http, live_server)
    cancel = re.search(r'<a href="([^"]+)">\[ Cancel \]</a>', at_provider.text)
    answer = http.get(urljoin(at_provider.url, unescape(cancel.group(1))))

    assert answer.status_code == 400 and urlsplit(answer.url).path == "/login/sso/callback"
    assert "Vendor Identity did not sign you in (End-User aborted interaction)" in answer.text
    assert not signed_in(http, live_server)


@pytest.fixture
def provider_keeping_the_e_mail_out_of_the_id_token(app, live_server, monkeypatch):
    provider = OpenIDProvider(f"{live_server}/login/sso/callback", userinfo_only=True)
    for key, value in provider.settings().items():
        monkeypatch.setitem(app.config, key, value)
    yield provider
    provider.stop()


def test_the_e_mail_is_taken_from_userinfo_when_the_id_token_has_none(
        app, demo, live_server, provider_keeping_the_e_mail_out_of_the_id_token, monkeypatch):
    asked = []
    with_userinfo = provider_client._with_userinfo
    monkeypatch.setattr(provider_client, "_with_userinfo",
                        lambda *args: asked.append(args[2]) or with_userinfo(*args))

    answer = sign_in_through_provider(requests.Session(), live_server, UNVERIFIED)
    refused(answer, 403, "has not verified the e-mail address engineer@northwind.example", app)
    http = requests.Session()
    answer = sign_in_through_provider(http, live_server, DEMO_EMAILS["customer"])
    assert answer.status_code == 200 and urlsplit(answer.url).path == "/my/cases"
    assert sessions(app) == [demo["customer"].id]
    # Both ID tokens came without an e-mail: the provider was asked for it.
    assert [claims["sub"] for claims in asked] == [UNVERIFIED, DEMO_EMAILS["customer"]]
    assert all("email" not in claims for claims in asked)
