"""Who hears about what: outbox handlers that turn events into e-mails."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from app.accounts.models import PARTNER_ROLES, Role, User
from app.cases.models import Case, Channel, Message
from app.extensions import db
from app.notifications.mail import send_email
from app.outbox.services import each_event, one_at_a_time
from app.uow import UnitOfWork


def _emails_by_organisation(org_ids: set[int], roles) -> dict[int, list[str]]:
    query = (sa.select(User.organisation_id, User.email)
             .where(User.organisation_id.in_(org_ids), User.active.is_(True), User.role.in_(list(roles)))
             .order_by(User.id))
    found: dict[int, list[str]] = {}
    for org_id, email in db.session.execute(query):
        found.setdefault(org_id, []).append(email)
    return found


def _emails(org_id: int, roles) -> list[str]:
    return _emails_by_organisation({org_id}, roles).get(org_id, [])


def _case_url(case_id: int) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/cases/{case_id}"


def _opened_cases(case_ids: set[int]) -> tuple[dict[int, Case], dict[int, list[str]]]:
    """The cases with what their e-mail names, and their partners' engineers' addresses: three
    statements however many cases a batch holds."""
    cases = {case.id: case for case in db.session.scalars(
        sa.select(Case).where(Case.id.in_(case_ids)).options(joinedload(Case.customer), joinedload(Case.product)))}
    return cases, _emails_by_organisation({case.partner_id for case in cases.values()}, PARTNER_ROLES)


def _mail_case_opened(uow: UnitOfWork, case: Case, to: list[str]) -> None:
    send_email(uow, to,
        f"[Case {case.id}] {case.severity.value} opened for {case.customer.name}: {case.title}",
        f"{case.customer.name} has a new {case.severity.value} case on serial "
        f"{case.serial_number} ({case.product.family} {case.product.model}, "
        f"{case.software_version}).\n\n{case.title}\n\n{_case_url(case.id)}\n",
    )


def on_case_opened(uow: UnitOfWork, payload: dict) -> None:
    """Tell the partner's engineers that a case was opened for one of their customers."""
    cases, emails = _opened_cases({payload["case_id"]})
    for case in cases.values():
        _mail_case_opened(uow, case, emails.get(case.partner_id, []))


def on_cases_opened(uow: UnitOfWork, events: list[tuple[int, dict]]) -> dict[int, str]:
    """on_case_opened for a batch: the cases and addresses read at once, each e-mail its event's own."""
    cases, emails = _opened_cases({payload["case_id"] for _event_id, payload in events})
    for _event_id, payload in each_event(uow, events):
        case = cases.get(payload["case_id"])
        if case is not None:  # gone since: nobody to tell
            _mail_case_opened(uow, case, emails.get(case.partner_id, []))
    return {}


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
BATCH_HANDLERS = {"notify.case_opened": on_cases_opened,
                  "notify.message_posted": one_at_a_time("notify.message_posted")}
