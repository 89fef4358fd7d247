"""Who hears about what: outbox handlers that turn events into e-mails."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import PARTNER_ROLES, Role, User
from app.cases.models import Case, Channel, Message
from app.extensions import db
from app.notifications.mail import send_email
from app.outbox.services import one_at_a_time
from app.uow import UnitOfWork


def _emails(org_id: int, roles) -> list[str]:
    query = (sa.select(User.email)
             .where(User.organisation_id == org_id, User.active.is_(True), User.role.in_(list(roles)))
             .order_by(User.id))
    return list(db.session.scalars(query))


def _case_url(case_id: int) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/cases/{case_id}"


def on_case_opened(uow: UnitOfWork, payload: dict) -> None:
    """Tell the partner's engineers that a case was opened for one of their customers."""
    case = db.session.get(Case, payload["case_id"])
    if case is None:
        return
    send_email(uow, 
        _emails(case.partner_id, PARTNER_ROLES),
        f"[Case {case.id}] {case.severity.value} opened for {case.customer.name}: {case.title}",
        f"{case.customer.name} has a new {case.severity.value} case on serial "
        f"{case.serial_number} ({case.product.family} {case.product.model}, "
        f"{case.software_version}).\n\n{case.title}\n\n{_case_url(case.id)}\n",
    )


def on_message_posted(uow: UnitOfWork, payload: dict) -> None:
    """A customer-channel message reaches the other side; other channels notify nobody by mail yet."""
    message = db.session.get(Message, payload["message_id"])
    if message is None or message.channel is not Channel.CUSTOMER:
        return
    case = db.session.get(Case, payload["case_id"])
    if message.author.role is Role.CUSTOMER:
        recipients = _emails(case.partner_id, PARTNER_ROLES)
    else:
        recipients = _emails(case.customer_id, {Role.CUSTOMER})
    send_email(uow, recipients, f"[Case {case.id}] New message: {case.title}",
               f"{message.author.name} wrote:\n\n{message.body}\n\n{_case_url(case.id)}\n")


HANDLERS = {
    "notify.case_opened": on_case_opened,
    "notify.message_posted": on_message_posted,
}
# A busy desk opens cases and posts messages by the thousand an hour: on RQ each job costs a forked
# work-horse with a fresh database connection and cold statement caches (some 200 ms on a small
# machine, against 5 ms for the handler itself), so these run many events to a job.
BATCH_HANDLERS = {topic: one_at_a_time(topic) for topic in HANDLERS}
