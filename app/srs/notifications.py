"""Outbox handlers that tell people about SRs by e-mail: the other side of each change,
the duty managers of management escalations, and each queue of its SLA warnings and breaches."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import GTAC_ROLES, PARTNER_ROLES, Role, User
from app.attachments.forms import human_size
from app.srs.models import ServiceRequest
from app.extensions import db
from app.notifications.mail import send_email
from app.outbox.services import one_at_a_time
from app.srs.models import AlertKind, HistoryKind, SLAAlert, SRHistory
from app.uow import UnitOfWork

ALERT_LIST_MAX = 50


def _active(query) -> list[str]:
    return list(db.session.scalars(query.where(User.active.is_(True)).order_by(User.id)))


def partner_emails(partner_id: int) -> list[str]:
    return _active(sa.select(User.email).where(User.organisation_id == partner_id,
                                               User.role.in_(list(PARTNER_ROLES))))


def duty_managers() -> list[str]:
    return _active(sa.select(User.email).where(User.role == Role.GTAC_MANAGER))


def sr_url(number: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/srs/{number}"


def _gtac_side(sr: ServiceRequest) -> list[str]:
    return [sr.assignee.email] if sr.assignee and sr.assignee.active else duty_managers()


def on_sr_event(uow: UnitOfWork, payload: dict) -> None:
    """E-mail whoever did not make the change: the partner for GTAC's moves, GTAC for the partner's."""
    row = db.session.get(SRHistory, payload["history_id"])
    if row is None:
        return
    sr = db.session.get(ServiceRequest, row.sr_id)
    by_gtac = row.actor is not None and row.actor.role in GTAC_ROLES
    subject = f"[{sr.number}] "
    if row.kind is HistoryKind.MANAGEMENT_ESCALATION:
        recipients = sorted(set(duty_managers()) | set(_gtac_side(sr)))
        subject += f"management escalation level {row.data['level']}"
    elif row.kind is HistoryKind.ASSIGNMENT or (row.kind is HistoryKind.STATUS and row.move == "take"):
        recipients = [sr.assignee.email] if sr.assignee and row.actor_id != sr.assignee_id else []
        subject += f"assigned to {sr.assignee.name if sr.assignee else 'nobody'}"
    elif by_gtac:
        recipients = partner_emails(sr.partner_id)
        subject += _what(row, "GTAC")
    else:
        recipients = _gtac_side(sr)
        subject += _what(row, "the partner")
    body = f"{sr.number} ({sr.severity.value}, {sr.queue}) is now {sr.status.value}.\n"
    if row.note:
        body += f"\n{row.note}\n"
    if row.kind is HistoryKind.MESSAGE:
        body += f"\n{row.actor.name if row.actor else 'Someone'} wrote:\n\n{row.data.get('body', '')}\n"
    if row.kind is HistoryKind.ATTACHMENT:
        body += (f"\n{row.actor.name if row.actor else 'Someone'} added a file to the SR's thread:\n\n"
                 f"{row.data['filename']} ({row.data['kind'].replace('_', ' ')}, {human_size(row.data['size'])})\n"
                 "\nIt is listed with the SR's files; the customer does not see it.\n")
    send_email(uow, recipients, subject, body + f"\n{sr_url(sr.number)}\n")


def _what(row: SRHistory, side: str) -> str:
    if row.kind is HistoryKind.MESSAGE:
        return f"new message from {side}"
    if row.kind is HistoryKind.ATTACHMENT:
        return f"new file from {side}: {row.data['filename']}"
    if row.kind is HistoryKind.SEVERITY:
        return f"severity {row.data['from']} -> {row.data['to']}"
    if row.kind is HistoryKind.RMA:
        return f"RMA {row.data.get('rma_number')} {row.data.get('status')}"
    return f"{row.from_status} -> {row.to_status}"


def queue_recipients(queue: str, assignees: list[str]) -> list[str]:
    """A queue hears through its mailbox (if configured), the duty managers and the engineers concerned."""
    template = current_app.config.get("SR_QUEUE_MAILBOX")
    mailbox = [template.format(queue=queue.lower())] if template else []
    return sorted(set(mailbox) | set(duty_managers()) | set(assignees))


def on_sla_alerts(uow: UnitOfWork, payload: dict) -> None:
    """One e-mail per queue per scan, listing its new warnings and breaches."""
    query = (sa.select(SLAAlert, ServiceRequest).join(ServiceRequest, SLAAlert.sr_id == ServiceRequest.id)
             .where(SLAAlert.batch == payload["batch"], SLAAlert.queue == payload["queue"]))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    if not total:
        return
    rows = db.session.execute(query.order_by(SLAAlert.due_at, SLAAlert.id).limit(ALERT_LIST_MAX)).all()
    breaches = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.where(SLAAlert.kind == AlertKind.BREACH).subquery()))
    lines = [f"{'BREACH ' if alert.kind is AlertKind.BREACH else 'warning'} {sr.number} {sr.severity.value} "
             f"{alert.target} due {alert.due_at:%Y-%m-%d %H:%M} UTC  {sr_url(sr.number)}" for alert, sr in rows]
    if total > len(rows):
        lines.append(f"... and {total - len(rows)} more")
    assignees = [sr.assignee.email for _, sr in rows if sr.assignee is not None]
    send_email(uow, queue_recipients(payload["queue"], assignees),
               f"[{payload['queue']}] {breaches} SLA breach(es), {total - breaches} near breach",
               "\n".join(lines) + "\n")


HANDLERS = {
    "notify.sr_event": on_sr_event,
    "notify.sr_sla_alerts": on_sla_alerts,
}
# Every SR change notifies someone: many to a job, as the case notifications (app/notifications).
BATCH_HANDLERS = {"notify.sr_event": one_at_a_time("notify.sr_event")}
