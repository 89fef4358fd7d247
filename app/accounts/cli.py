"""`flask certifications extend`, `flask users invite`, `flask users deactivate` and `flask users set-password`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

import sqlalchemy as sa

from app.accounts.invitations import invite_user
from app.accounts.models import Organisation, Role
from app.accounts.services import LONGEST_EXTENSION_DAYS, deactivate_user, extend_certifications, set_password
from app.errors import DomainError
from app.uow import unit_of_work

certifications_cli = AppGroup("certifications", help="Engineer certifications.")


@certifications_cli.command("extend")
@click.option("--days", type=click.IntRange(min=1, max=LONGEST_EXTENSION_DAYS), required=True, help="Days to add.")
@click.option("--family", default=None, help="Only this product family (default: all).")
@click.option("--expiring-before", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only certifications expiring before this date (YYYY-MM-DD).")
def extend_command(days: int, family: str | None, expiring_before) -> None:
    """Programme-wide extension of certification expiry dates (audited)."""
    moved = extend_certifications(family, days, expiring_before.date() if expiring_before else None)
    click.echo(f"extended {moved} certification(s) by {days} day(s)")


users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("invite")
@click.argument("email")
@click.option("--name", required=True, help="The person's name.")
@click.option("--organisation", "organisation_name", required=True, help="The organisation's name, as it is stored.")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
def invite_command(email: str, name: str, organisation_name: str, role: str) -> None:
    """Create a user without a password and e-mail them a link to choose one (the first admin of an
    organisation, for instance)."""
    try:
        with unit_of_work() as uow:
            organisation = uow.session.scalars(
                sa.select(Organisation).where(Organisation.name == organisation_name)).one_or_none()
            if organisation is None:
                raise click.ClickException(f"No organisation is named {organisation_name!r}.")
            user = invite_user(uow, email=email, name=name, organisation=organisation, role=Role(role),
                               invited_by=None)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{user.email} invited as {role} of {organisation_name}; the invitation e-mail is on its way")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Stop a user signing in or using tokens, and end every web session of theirs."""
    try:
        deactivate_user(email)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{email} deactivated; their web sessions are ended")


@users_cli.command("set-password")
@click.argument("email")
@click.password_option(help="The new password (asked for when not given).")
def set_password_command(email: str, password: str) -> None:
    """A new password for a user; every web session of theirs ends."""
    try:
        set_password(email, password)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"password of {email} changed; their web sessions are ended")
