"""Demo data: one registered programme platform, so that the Integrations page shows one at once.

Its callback URL names a host of the reserved .example domain, which no resolver answers: the
registration service refuses such a URL (it must reach a public address), so the row is written
here, audited as a registration is. Its secret is made and sealed as usual and shown to nobody;
whoever wants to push claims with it registers a platform of their own. Safe to run again."""
from __future__ import annotations

import secrets

import sqlalchemy as sa

from app.accounts.models import User
from app.audit.services import record
from app.clock import now
from app.integrations.models import Integration, IntegrationStatus
from app.integrations.services import seal
from app.uow import unit_of_work

NAME = "PartnerLink claims hub (demo)"
CALLBACK_URL = "https://programme-platform.example/gtac/callbacks"


def seed_integration() -> None:
    with unit_of_work() as uow:
        if uow.session.scalar(sa.select(Integration.id).where(Integration.name == NAME)):
            return
        programs = uow.session.scalars(sa.select(User).where(User.email == "programs@vendor.example")).one()
        integration = Integration(name=NAME, callback_url=CALLBACK_URL, secret_ciphertext=seal(secrets.token_urlsafe(32)),
                                  status=IntegrationStatus.ACTIVE, created_by_id=programs.id, created_at=now())
        uow.session.add(integration)
        uow.session.flush()
        record(programs, "integration", integration.id, "integration.registered",
               after={"name": NAME, "callback_url": CALLBACK_URL})
