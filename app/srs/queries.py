"""Lists of SRs: filters of SPEC §10, newest first or most urgent first, with keyset cursors."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload, load_only

from app import access
from app.accounts.models import User
from app.cases.models import Case, Severity
from app.clock import now
from app.db import transaction
from app.errors import InvalidInput
from app.escalation.models import ServiceRequest, SRStatus
from app.pagination import DEFAULT_LIMIT, Page, paginate
from app.srs import workflow

SR = ServiceRequest
# One round trip per page: what a list row shows comes in the same statement (built once).
ROW_OPTIONS = (
    joinedload(SR.assignee).options(load_only(User.id, User.name, User.role), lazyload(User.organisation)),
    joinedload(SR.case).options(load_only(Case.id, Case.title, Case.partner_id), joinedload(Case.partner),
                                lazyload(Case.customer), lazyload(Case.product)),
)
OPEN_STATUSES = [SRStatus(state) for state in workflow.STATES if state in workflow.OPEN_STATES]


@dataclass(frozen=True)
class UrgencyCursor:
    """Where the previous page ended in (due time, id) order; due None means among the paused."""

    due: datetime | None
    last_id: int

    def encode(self) -> str:
        raw = json.dumps({"u": [self.due.isoformat() if self.due else None, self.last_id]},
                         separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> UrgencyCursor:
        try:
            data = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
            due, last_id = data["u"]
            if isinstance(last_id, bool) or not isinstance(last_id, int) or last_id < 1:
                raise ValueError(last_id)
            due_at = datetime.fromisoformat(due) if due is not None else None
            if due_at is not None and due_at.tzinfo is None:
                raise ValueError(due)
            return cls(due_at, last_id)
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise InvalidInput("The cursor is not one this API issued for this order.", code="invalid_cursor",
                               details={"cursor": cursor[:100]}) from None


def _filtered(actor: User, *, queue=None, status=None, severity=None, breached=None, assignee_id=None,
              open_only=False) -> sa.Select:
    query = access.visible_srs(actor).options(*ROW_OPTIONS)
    if queue:
        query = query.where(SR.queue == queue)
    if status:
        query = query.where(SR.status == SRStatus(status))
    elif open_only:
        query = query.where(SR.status.in_(OPEN_STATUSES))
    if severity:
        query = query.where(SR.severity == Severity(severity))
    if assignee_id is not None:
        query = query.where(SR.assignee_id == assignee_id)
    if breached is not None:
        # Read-time truth: the stored due time is re-planned on every change.
        at = now()
        query = query.where(SR.sla_due_at <= at if breached
                            else sa.or_(SR.sla_due_at.is_(None), SR.sla_due_at > at))
    return query


def list_srs(actor: User, *, sort: str = "newest", limit: int = DEFAULT_LIMIT, cursor: str | None = None,
             **filters) -> Page[ServiceRequest]:
    """SRs the caller may see. 'urgency' lists open SRs (unless a status is asked) by SLA due time."""
    access.require(actor, "sr.list")
    with transaction() as session:
        if sort != "urgency":
            return paginate(session, _filtered(actor, **filters), SR.id, limit, cursor)
        query = _filtered(actor, open_only=True, **filters)
        after = UrgencyCursor.decode(cursor) if cursor else None
        rows: list[ServiceRequest] = []
        # Two index range scans instead of one OR: the running SRs by due time, then the paused ones.
        if after is None or after.due is not None:
            running = query.where(SR.sla_due_at.is_not(None))
            if after is not None:
                running = running.where(sa.tuple_(SR.sla_due_at, SR.id) > sa.tuple_(
                    sa.literal(after.due, type_=SR.sla_due_at.type), sa.literal(after.last_id)))
            rows = list(session.scalars(running.order_by(SR.sla_due_at, SR.id).limit(limit + 1)))
        if len(rows) <= limit:
            waiting = query.where(SR.sla_due_at.is_(None))
            if after is not None and after.due is None:
                waiting = waiting.where(SR.id > after.last_id)
            rows += list(session.scalars(waiting.order_by(SR.id).limit(limit + 1 - len(rows))))
        has_more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = UrgencyCursor(rows[-1].sla_due_at, rows[-1].id).encode() if has_more else None
        return Page(rows, next_cursor)
