"""The web forms refuse bad input with a message and the right status, and write nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases.models import Case, Message
from app.extensions import db
from tests.conftest import DEMO_EMAILS
from tests.web.helpers import count, csrf_token, sign_in, text


def first_case_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.min(Case.id)))


def test_forms_without_a_csrf_token_are_refused(app, client, demo):
    assert client.post("/login", data={"email": DEMO_EMAILS["engineer"],
                                       "password": "demo-password"}).status_code == 400
    sign_in(client, "engineer")
    case_id = first_case_id(app)
    messages, cases = count(app, Message), count(app, Case)

    posted = client.post(f"/cases/{case_id}/messages", data={"channel": "internal", "body": "hello"})
    opened = client.post("/cases/new", data={"serial_number": "ACME-0002", "software_version": "1.0",
                                             "severity": "S3", "title": "Forged", "description": "x"})

    assert posted.status_code == 400 and opened.status_code == 400
    assert "CSRF" in text(posted)
    assert (count(app, Message), count(app, Case)) == (messages, cases)


def test_a_customer_cannot_post_an_internal_note(app, client, demo):
    token = sign_in(client, "customer")
    case_id = first_case_id(app)
    events = count(app, AuditEvent)

    answer = client.post(f"/cases/{case_id}/messages",
                         data={"channel": "internal", "body": "let me in", "csrf_token": token})

    assert answer.status_code == 403
    assert 'role="alert">Your role may not write to the internal channel.' in text(answer)
    assert count(app, Message) == 0 and count(app, AuditEvent) == events


@pytest.mark.parametrize("data, status, shown", [
    ({"channel": "telepathy", "body": "hi"}, 400, "Choose one of the thread&#39;s channels"),
    ({"channel": "customer", "body": "   "}, 400, "This field is required."),
    ({"channel": "customer", "body": "x" * 20001}, 400, "Field cannot be longer than 20000 characters."),
])
def test_bad_messages_are_refused_with_a_message(app, client, demo, data, status, shown):
    token = sign_in(client, "engineer")
    case_id = first_case_id(app)
    answer = client.post(f"/cases/{case_id}/messages", data={**data, "csrf_token": token})

    assert answer.status_code == status
    assert shown in text(answer)
    assert count(app, Message) == 0
    # The page drawn again names its own address, which its live sections read it again from.
    assert f'<link rel="canonical" href="/cases/{case_id}">' in text(answer)


@pytest.mark.parametrize("query, shown", [
    ("?status=lost", "Not a valid choice."),
    ("?severity=S9", "Not a valid choice."),
    ("?q=" + "x" * 201, "Field cannot be longer than 200 characters."),
    ("?cursor=not-a-cursor", "The cursor is not one this API issued."),
])
def test_bad_list_filters_answer_400_with_a_message(client, demo, query, shown):
    sign_in(client, "engineer")
    answer = client.get("/cases" + query)

    assert answer.status_code == 400
    assert shown in text(answer)


def test_roles_that_may_not_open_cases_get_403_not_a_form(client, demo):
    sign_in(client, "gtac")
    answer = client.get("/cases/new")

    assert answer.status_code == 403
    assert "<form method=\"post\" class=\"card\"" not in text(answer)


def test_an_unknown_case_is_a_404_page(client, demo):
    sign_in(client, "engineer")
    answer = client.get("/cases/999999")

    assert answer.status_code == 404
    assert "Case 999999 not found." in text(answer)


def test_login_refuses_off_site_next_addresses(client, demo):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        # Signing out starts a new session, with a CSRF token of its own.
        token = csrf_token(client.get("/login").get_data(as_text=True))
        answer = client.post("/login", query_string={"next": target}, data={
            "email": DEMO_EMAILS["engineer"], "password": "demo-password", "csrf_token": token})
        assert answer.status_code == 302
        assert answer.headers["Location"] == "/cases"
        client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/cases")))})
