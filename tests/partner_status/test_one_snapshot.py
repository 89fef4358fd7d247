"""A dashboard is read from one snapshot: a change committed while it is being read does not show in
half of it (PostgreSQL; SQLite's transactions are serialisable already)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from app.partner_status import dashboard


def test_a_change_committed_mid_read_does_not_show_in_the_rest_of_the_dashboard(app, demo, monkeypatch):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL only: the snapshot is its REPEATABLE READ")
    engineers = dashboard._engineers

    def meanwhile(session, partner_id, day):
        # Another transaction expires every certification of the partner's engineers and commits,
        # after the dashboard has read the partner and its status.
        with db.engine.begin() as other:
            other.execute(sa.text("UPDATE certifications SET expires_on = DATE '2020-01-01' WHERE user_id IN "
                                  "(SELECT id FROM users WHERE organisation_id = :partner)"), {"partner": partner_id})
        return engineers(session, partner_id, day)

    monkeypatch.setattr(dashboard, "_engineers", meanwhile)
    with app.app_context():
        admin = db.session.get(User, demo["admin"].id)
        found = dashboard.partner_dashboard(admin, admin.organisation_id)
        nadia = next(e for e in found.engineers if e.email == "engineer@northwind.example")
        assert {c.expires_on.isoformat() for c in nadia.certifications} == {"2030-12-31"}
        assert next(s for s in found.requirements if s.code == "CERT-VOSS").met
        db.session.remove()
