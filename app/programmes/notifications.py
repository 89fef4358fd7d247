"""The e-mail a partner's admins get when an alleviation lowers their target (outbox handler)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import Role, User
from app.extensions import db
from app.notifications.mail import send_email
from app.payments.money import format_amount
from app.programmes.models import ProgrammePeriod, RebateProgramme, TargetAlleviation, TargetVersion
from app.uow import UnitOfWork


def on_targets_lowered(uow: UnitOfWork, payload: dict) -> None:
    alleviation = db.session.get(TargetAlleviation, payload["alleviation_id"])
    if alleviation is None:
        return
    programme = db.session.get(RebateProgramme, alleviation.programme_id)
    period = db.session.get(ProgrammePeriod, alleviation.period_id)
    url = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/rebates"
    versions = db.session.scalars(sa.select(TargetVersion).where(TargetVersion.alleviation_id == alleviation.id)
                                  .order_by(TargetVersion.partner_id))
    for version in versions:
        admins = list(db.session.scalars(sa.select(User.email).where(
            User.organisation_id == version.partner_id, User.role == Role.PARTNER_ADMIN,
            User.active.is_(True)).order_by(User.id)))
        send_email(uow, admins, f"{programme.name}: your {period.label} target is lowered",
                   f"From {alleviation.effective_from} your {programme.name} target for {period.label} is "
                   f"{format_amount(version.amount, programme.currency)}.\n"
                   f"Sales before that day are judged against the target then in force.\n\n"
                   f"{alleviation.reason}\n\n{url}\n")


HANDLERS = {"notify.programmes.targets_lowered": on_targets_lowered}
