"""Two registrations of one name at the same moment: the one that loses the race is told (409), never
given a 500, and nothing of it is written. PostgreSQL: its unique index waits for the winner."""
from __future__ import annotations

import sqlalchemy as sa

from app.integrations import services
from app.integrations.models import Integration
from app.extensions import db
from tests.api.conftest import assert_error


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
