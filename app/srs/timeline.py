"""An SR's timeline: the one place its entries are written, and the event each entry becomes.

Every entry (opened, a move, an assignment, a message, a file, an RMA step...)
goes through write(): the row, the clocks re-planned from the timeline, the
audit event when the change names one, the live event for the SR's, its
partner's and GTAC's streams (and the customer-safe one for the case's customer), and the outbox events for e-mail and the
partner's webhooks, all in the caller's unit of work.
"""
from __future__ import annotations

from typing import Any

from app.accounts.models import User
from app.audit.services import record
from app.clock import now
from app.srs import clocks, progress
from app.srs.models import HistoryKind, ServiceRequest, SRHistory
from app.uow import UnitOfWork

GTAC_CHANNEL = "gtac"
# Entries that move no clock (see clocks.clock_events); an SR's clocks start planned (app.srs.opening).
CLOCKLESS = frozenset({HistoryKind.OPENED, HistoryKind.ATTACHMENT, HistoryKind.RMA})


def sr_channel(sr_id: int) -> str:
    return f"sr:{sr_id}"


def partner_channel(partner_id: int) -> str:
    return f"partner:{partner_id}"


def snapshot(sr: ServiceRequest) -> dict[str, Any]:
    """The audited fields of an SR as plain JSON values."""
    return {"status": sr.status.value, "severity": sr.severity.value, "assignee_id": sr.assignee_id,
            "management_level": sr.management_level,
            "sla_due_at": sr.sla_due_at.isoformat() if sr.sla_due_at else None}


def event_payload(sr: ServiceRequest, row: SRHistory) -> dict[str, Any]:
    """The event of one timeline row, as streams send it, webhooks carry it and pages render it."""
    return {
        "id": row.id,
        "sr_number": sr.number,
        "kind": row.kind.value,
        "move": row.move,
        "from": row.from_status,
        "to": row.to_status,
        "status": sr.status.value,
        "severity": sr.severity.value,
        "queue": sr.queue,
        "assignee": sr.assignee.name if sr.assignee else None,
        "sla_due_at": sr.sla_due_at.isoformat() if sr.sla_due_at else None,
        "management_level": sr.management_level,
        "note": row.note,
        "data": row.data or {},
        "actor": row.actor.name if row.actor else None,
        "at": row.at.isoformat(),
    }


def write(uow: UnitOfWork, sr: ServiceRequest, actor: User | None, kind: HistoryKind, *,
          audit: tuple[str, dict[str, Any]] | None = None, notify: bool = True, at=None,
          **fields: Any) -> SRHistory:
    """Append one entry and everything it causes; `audit` is (action, the SR's snapshot before).

    `notify` is off only for the opening entry, whose e-mail to GTAC's queue is the
    escalation's own (notify.sr_created); the partner's webhooks hear of every entry.
    """
    session = uow.session
    row = SRHistory(sr_id=sr.id, at=at or now(), actor_id=actor.id if actor else None, kind=kind,
                    data=fields.pop("data", None) or {}, **fields)
    session.add(row)
    session.flush()
    session.expire(sr, ["assignee"])  # assignee_id may have changed under the loaded relationship
    if kind not in CLOCKLESS:
        clocks.replan(session, sr)
    if audit is not None:
        action, before = audit
        record(actor, "service_request", sr.id, action, before=before, after=snapshot(sr))
    uow.publish((sr_channel(sr.id), partner_channel(sr.partner_id), GTAC_CHANNEL), event_payload(sr, row))
    progress.announce(uow, sr, row)  # the customer's own channel hears only the stage
    if notify:
        uow.emit("notify.sr_event", {"history_id": row.id})
    uow.emit("webhooks.sr_event", {"history_id": row.id})
    return row
