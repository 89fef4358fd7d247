"""Driving the web pages with Flask's test client: sign in through the form, read tokens and counts."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from tests.conftest import DEMO_EMAILS


def text(answer) -> str:
    return answer.get_data(as_text=True)


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', html).group(1)


def sign_in(client, who: str) -> str:
    """Signs in through the form; returns a CSRF token for the session's next forms."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"email": DEMO_EMAILS[who], "password": "demo-password",
                                         "csrf_token": token})
    assert answer.status_code == 302
    return csrf_token(text(client.get(answer.headers["Location"])))


def count(app, model, *where) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(model)
        return db.session.scalar(query.where(*where) if where else query)
