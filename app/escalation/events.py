"""Outbox handlers of escalation: a new SR notifies GTAC."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import GTAC_ROLES, User
from app.srs.models import ServiceRequest
from app.extensions import db
from app.notifications.mail import send_email
from app.outbox.services import one_at_a_time
from app.uow import UnitOfWork


def on_sr_created(uow: UnitOfWork, payload: dict) -> None:
    """E-mail GTAC staff that a new SR waits in its queue."""
    service_request = db.session.get(ServiceRequest, payload["sr_id"])
    if service_request is None:
        return
    recipients = list(db.session.scalars(
        sa.select(User.email).where(User.role.in_(list(GTAC_ROLES)), User.active.is_(True))
        .order_by(User.id)))
    case = service_request.case
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    send_email(uow, 
        recipients,
        f"[{service_request.number}] {service_request.severity.value} in {service_request.queue}: {case.title}",
        f"{case.partner.name} escalated case {case.id} for {case.customer.name}.\n"
        f"Product: {case.product.family} {case.product.model}, serial {case.serial_number}, "
        f"software {case.software_version}.\n"
        f"Initial response due {service_request.response_due_at:%Y-%m-%d %H:%M} UTC.\n\n"
        f"{base}/cases/{case.id}\n",
    )


HANDLERS = {"notify.sr_created": on_sr_created}
BATCH_HANDLERS = {"notify.sr_created": one_at_a_time("notify.sr_created")}
