"""The e-mail a partner's admins get when a programme-wide change reaches their partner (outbox handler):
what moved for it, from which day to which, and why."""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import Role, User
from app.extensions import db
from app.notifications.mail import send_email
from app.partner_status.models import StatusChange
from app.uow import UnitOfWork

TITLES = {
    "extend_levels": "your partner level is extended",
    "move_review": "your levelling review is moved",
    "push_deadline": "a requirement's deadline is pushed",
    "extend_specialisations": "your specialisation is extended",
    "waive_requirement": "a requirement is waived",
    "extend_exceptions": "your exception is extended",
}


def on_status_changed(uow: UnitOfWork, payload: dict) -> None:
    change = db.session.get(StatusChange, payload["change_id"])
    if change is None:
        return
    url = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/partner-status"
    lines: dict[int, list[str]] = defaultdict(list)
    for partner_id, subject, before, after in payload["rows"]:
        lines[partner_id].append(f"- {subject}: {before or 'none'} -> {after}")
    admins: dict[int, list[str]] = defaultdict(list)
    for organisation_id, email in db.session.execute(
            sa.select(User.organisation_id, User.email).where(
                User.organisation_id.in_(sorted(lines)), User.role == Role.PARTNER_ADMIN, User.active.is_(True))
            .order_by(User.id)):
        admins[organisation_id].append(email)
    for partner_id in sorted(lines):
        send_email(uow, admins.get(partner_id, []), f"Partner programme: {TITLES[change.kind]}",
                   "The partner programme changed your status:\n" + "\n".join(lines[partner_id])
                   + f"\n\n{change.reason}\n\n{url}\n")


HANDLERS = {"notify.partner_status.changed": on_status_changed}
