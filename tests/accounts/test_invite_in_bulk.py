"""invite_user, the one way to create invited users, as a bulk import calls it: many in one unit of work."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.invitations import invite_user
from app.accounts.models import Organisation, Role, User
from app.errors import Conflict
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.uow import unit_of_work
from tests.accounts.mail import mailbox  # noqa: F401 (fixture)


def organisation(name: str) -> Organisation:
    return db.session.scalars(sa.select(Organisation).where(Organisation.name == name)).one()


def test_many_invitations_in_one_unit_each_get_their_email(app, demo, mailbox):
    rows = [("ana@northwind.example", "Ana", "Northwind Networks", Role.PARTNER_ENGINEER),
            ("ben@acme.example", "Ben", "Acme Corp", Role.CUSTOMER),
            ("cy@vendor.example", "Cy", "Extreme GTAC", Role.GTAC_MANAGER)]
    with app.app_context():
        with unit_of_work() as uow:
            invited = [invite_user(uow, email=email, name=name, organisation=organisation(org), role=role,
                                   invited_by=None) for email, name, org, role in rows]
        assert all(user.id and user.invitation_pending for user in invited)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(email for email, *_ in rows)


def test_one_bad_row_leaves_the_whole_unit_unwritten(app, demo, mailbox):
    with app.app_context():
        users_before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        events_before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))
        with pytest.raises(Conflict) as refused:
            with unit_of_work() as uow:
                invite_user(uow, email="dee@northwind.example", name="Dee", organisation=organisation(
                    "Northwind Networks"), role=Role.PARTNER_ENGINEER, invited_by=None)
                invite_user(uow, email="DEE@northwind.example", name="Dee again", organisation=organisation(
                    "Northwind Networks"), role=Role.PARTNER_ENGINEER, invited_by=None)
        assert refused.value.code == "email_taken"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users_before
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)) == events_before
    assert mailbox.messages == []


def test_the_first_admin_of_an_organisation_can_be_invited_from_the_command_line(app, demo, mailbox):
    runner = app.test_cli_runner()
    answer = runner.invoke(args=["users", "invite", "boss@contoso.example", "--name", "Cleo Contoso",
                                 "--organisation", "Contoso Integrators", "--role", "partner_admin"])
    assert answer.exit_code == 0, answer.output
    assert [m["To"] for m in mailbox.messages] == ["boss@contoso.example"]
    refused = runner.invoke(args=["users", "invite", "x@contoso.example", "--name", "X", "--organisation",
                                  "Contoso Integrators", "--role", "customer"])
    assert refused.exit_code != 0 and "can be partner_engineer, partner_admin, not customer" in refused.output
    unknown = runner.invoke(args=["users", "invite", "x@y.example", "--name", "X", "--organisation", "Nowhere",
                                  "--role", "customer"])
    assert unknown.exit_code != 0 and "No organisation is named 'Nowhere'" in unknown.output
