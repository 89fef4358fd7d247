"""API tokens that expire, and the last time each was used (written at most once a minute)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import ApiToken
from app.clock import FixedClock, now
from app.extensions import db
from tests.api.conftest import assert_error
from tests.conftest import DEMO_EMAILS, basic
from tests.web.helpers import sign_in, text


def issue(client, **body):
    answer = client.post("/api/v1/tokens", json={"name": "ci", **body}, headers=basic(DEMO_EMAILS["engineer"]))
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_token_with_an_expiry_stops_working_then_and_says_so(app, client, demo, monkeypatch):
    clock = FixedClock(now())
    monkeypatch.setitem(app.extensions, "clock", clock)
    issued = issue(client, expires_in_days=7)
    assert issued["expires_at"] == (clock.at + timedelta(days=7)).isoformat()
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    clock.advance(days=7, seconds=-1)
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    clock.advance(seconds=1)
    error = assert_error(client.get("/api/v1/me", headers=bearer), 401, "token_expired")
    assert "issue a new one" in error["message"]
    # A token without an expiry goes on working.
    forever = issue(client)
    assert forever["expires_at"] is None
    clock.advance(days=3650)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forever['token']}"}).status_code == 200


def test_last_use_is_written_at_most_once_a_minute(app, client, demo, monkeypatch):
    clock = FixedClock(now())
    monkeypatch.setitem(app.extensions, "clock", clock)
    issued = issue(client)
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/tokens", headers=bearer).json[0]["last_used_at"] == clock.at.isoformat()
    first_use = clock.at
    writes = []

    def count_updates(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count_updates)
    try:
        for _ in range(5):
            clock.advance(seconds=10)
            assert client.get("/api/v1/me", headers=bearer).status_code == 200
        assert writes == []
        clock.advance(seconds=11)  # 61 s after the first use
        client.get("/api/v1/me", headers=bearer)
        assert len(writes) == 1
    finally:
        with app.app_context():
            sa.event.remove(db.engine, "before_cursor_execute", count_updates)
    with app.app_context():
        used = db.session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.id == issued["id"]))
    assert used == first_use + timedelta(seconds=61)


def test_the_tokens_page_shows_last_use_and_expiry_and_issues_expiring_tokens(app, client, demo):
    issued = issue(client)
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued['token']}"})
    csrf = sign_in(client, "engineer")
    answer = client.post("/account/tokens", data={"csrf_token": csrf, "name": "monitoring", "expires_in_days": "30"})
    assert answer.status_code == 201
    page = text(client.get("/account/tokens"))
    assert "Last used" in page and "Expires" in page
    with app.app_context():
        monitoring = db.session.scalars(sa.select(ApiToken).where(ApiToken.name == "monitoring")).one()
        assert monitoring.expires_at - monitoring.created_at == timedelta(days=30)
    refused = client.post("/account/tokens", data={"csrf_token": csrf, "name": "x", "expires_in_days": "9999"})
    assert refused.status_code == 400
