"""Registering a claims platform under a name: two registrations of one name at the same moment, the
loser told (409, PostgreSQL: its unique index waits for the winner), never given a 500; a name of
spaces alone refused. Nothing of a refused one is written."""
from __future__ import annotations

import sqlalchemy as sa

from app.integrations import services
from app.integrations.models import Integration
from app.extensions import db
from tests.api.conftest import assert_error, row_counts  # noqa: F401


def test_the_loser_of_a_race_for_a_name_gets_a_409_and_nothing_is_written(app, client, tokens, postgres,
                                                                          monkeypatch):
    other = sa.create_engine(postgres)
    seal = services.seal

    def the_other_request_inserts_first(secret):  # between the name's check and this insert
        with other.begin() as connection:
            programs = connection.scalar(sa.text("SELECT id FROM users WHERE email = 'programs@vendor.example'"))
            connection.execute(sa.insert(Integration).values(
                name="Racing platform", callback_url="https://racing.example/callbacks", secret_ciphertext=seal(secret),
                status="active", created_by_id=programs, created_at=sa.func.now()))
        return seal(secret)

    monkeypatch.setattr(services, "seal", the_other_request_inserts_first)
    monkeypatch.setitem(app.config, "SR_WEBHOOK_ALLOW_PRIVATE", True)
    try:
        answer = client.post("/api/v1/integrations", headers=tokens["programs"],
                             json={"name": "Racing platform", "callback_url": "https://racing.example/callbacks"})
    finally:
        other.dispose()
    assert_error(answer, 409, "conflict")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Integration)
                                 .where(Integration.name == "Racing platform")) == 1
        db.session.remove()


def test_a_name_of_spaces_alone_is_refused(client, tokens, row_counts):
    before = row_counts()
    answer = client.post("/api/v1/integrations", headers=tokens["programs"],
                         json={"name": "   ", "callback_url": "https://platform.example/callbacks"})
    assert assert_error(answer, 400, "invalid_input")["details"]["fields"]["name"] == ["More than spaces."]
    assert row_counts() == before
