"""The demo data registers one programme platform: the programmes team sees it at once."""
from __future__ import annotations

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db


def test_the_demo_has_one_registered_programme_platform(app, client, tokens, signed_in):
    listed = client.get("/api/v1/integrations", headers=tokens["programs"])
    assert listed.status_code == 200, listed.json
    assert [(i["name"], i["status"]) for i in listed.json] == [("PartnerLink claims hub (demo)",
                                                                         "active")]
    assert "PartnerLink claims hub (demo)" in signed_in("programs").get("/integrations").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "integration.registered")) == 1
        db.session.remove()


def test_seeding_the_demo_platform_again_adds_nothing(app, demo):
    from app.integrations.demo import seed_integration
    from app.integrations.models import Integration

    with app.app_context():
        seed_integration()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Integration)) == 1
        db.session.remove()
