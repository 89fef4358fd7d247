"""Lists of SRs: filters of SPEC §10, newest first or most urgent first, with keyset cursors.

A list page is read as plain rows carrying only what a list shows (the SR's own
columns, the case title, the partner's and the assignee's names), in one statement,
without ORM objects: GTAC's queue pages are the busiest reads of the service and
building and then serialising mapped objects cost more than the SQL itself.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Row

from app import access
from app.accounts.models import Organisation, User
from app.cases.models import Case, Severity
from app.db import stored_text
from app.clock import now
from app.uow import unit_of_work
from app.errors import InvalidInput
from app.srs.models import ServiceRequest, SRStatus
from app.pagination import DEFAULT_LIMIT, Page, decode_cursor, encode_cursor
from app.srs import workflow

SR = ServiceRequest
OPEN_STATUSES = [SRStatus(state) for state in workflow.STATES if state in workflow.OPEN_STATES]
# Written out as literals, not bound values: PostgreSQL can then match the partial
# urgency index (status IN open states) also in the generic plan of a prepared statement.
_OPEN = SR.status.in_(sa.bindparam("open_statuses", [s.value for s in OPEN_STATUSES], expanding=True,
                                   literal_execute=True, type_=sa.String()))


# What a list row shows: the API's SR summary and the queue page's cells.
ROW_COLUMNS = (
    SR.id, SR.number, SR.case_id, Case.title, stored_text(SR.status, "status"), stored_text(SR.severity, "severity"),
    SR.queue, SR.product_family, SR.region, SR.partner_id, Organisation.name.label("partner_name"),
    SR.assignee_id, User.name.label("assignee_name"), stored_text(User.role, "assignee_role"),
    SR.management_level, SR.created_at, SR.response_due_at, SR.update_due_at, SR.sla_due_at,
)

# The select every list statement starts from (built once; a statement is immutable).
_ROWS = (sa.select(*ROW_COLUMNS).select_from(SR)
         .outerjoin(Case, Case.id == SR.case_id)
         .outerjoin(Organisation, Organisation.id == Case.partner_id)
         .outerjoin(User, User.id == SR.assignee_id))
# The names of a list row's fields, in order.
ROW_FIELDS: tuple[str, ...] = tuple(_ROWS.selected_columns.keys())


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


def _conditions(scope, *, queue=None, status=None, severity=None, assignee_id=None,
                open_only=False) -> list[sa.ColumnElement[bool]]:
    """The tenant's scope and the filters, on service_requests alone (breached is applied per order)."""
    conditions = [scope]
    if queue:
        conditions.append(SR.queue == queue)
    if status:
        conditions.append(SR.status == SRStatus(status))
    elif open_only:
        conditions.append(_OPEN)
    if severity:
        conditions.append(SR.severity == Severity(severity))
    if assignee_id is not None:
        conditions.append(SR.assignee_id == assignee_id)
    return conditions


def _breached(breached: bool | None, at: datetime) -> list[sa.ColumnElement[bool]]:
    """Read-time truth: the stored due time is re-planned on every change, so no job needs to have run."""
    if breached is None:
        return []
    return [SR.sla_due_at <= at] if breached else [sa.or_(SR.sla_due_at.is_(None), SR.sla_due_at > at)]


def _page_limit(rows: int, generic: bool):
    """The LIMIT of a page. PostgreSQL plans a prepared statement with a bound LIMIT afresh on every
    execution; with the page size written in (sizes are few) it settles on one generic plan instead."""
    return sa.bindparam("page_limit", rows, type_=sa.Integer(), literal_execute=True) if generic else rows


def list_srs(actor: User, *, sort: str = "newest", limit: int = DEFAULT_LIMIT, cursor: str | None = None,
             breached: bool | None = None, **filters) -> Page[Row]:
    """SRs the caller may see, as list rows (ROW_COLUMNS). 'urgency' lists open SRs (unless a status
    is asked) by SLA due time, the paused ones (no due time) last."""
    access.require(actor, "sr.list")
    at = now()
    scope = access.sr_scope(actor)
    # One generic plan suits GTAC's queues, filtered on a few evenly used values. Lists of one
    # partner or one engineer are planned for their own values: their SR counts differ widely,
    # and a plan right for the largest would walk a whole index for the smallest.
    generic = isinstance(scope, sa.True_) and filters.get("assignee_id") is None
    with unit_of_work() as uow:
        if sort != "urgency":
            conditions = _conditions(scope, **filters) + _breached(breached, at)
            return _newest(uow.session, conditions, _page_limit(limit + 1, generic), limit, cursor)
        conditions = _conditions(scope, open_only=True, **filters)
        after = UrgencyCursor.decode(cursor) if cursor else None
        rows: list[Row] = []
        # Two index range scans instead of one OR: the running SRs by due time, then the paused ones.
        # The breached filter becomes a bound on the first scan: overdue SRs are its head, and a
        # paused SR is never overdue.
        if after is None or after.due is not None:
            running = [*conditions, SR.sla_due_at.is_not(None)]
            if breached is not None:
                running.append(SR.sla_due_at <= at if breached else SR.sla_due_at > at)
            if after is not None:
                running.append(sa.tuple_(SR.sla_due_at, SR.id) > sa.tuple_(
                    sa.literal(after.due, type_=SR.sla_due_at.type), sa.literal(after.last_id)))
            rows = list(uow.session.execute(_ROWS.where(*running).order_by(SR.sla_due_at, SR.id)
                                        .limit(_page_limit(limit + 1, generic))))
        if len(rows) <= limit and not breached:
            waiting = [*conditions, SR.sla_due_at.is_(None)]
            if after is not None and after.due is None:
                waiting.append(SR.id > after.last_id)
            rows += uow.session.execute(_ROWS.where(*waiting).order_by(SR.id).limit(limit + 1 - len(rows)))
        has_more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = UrgencyCursor(rows[-1].sla_due_at, rows[-1].id).encode() if has_more else None
        return Page(rows, next_cursor)


def _newest(session, conditions: list, page_limit, limit: int, cursor: str | None) -> Page[Row]:
    """Newest first; the page's ids come from service_requests alone (the scope's (tenant, id)
    index), then their rows are read, so PostgreSQL never walks the primary key past other
    tenants' newer SRs (as app.pagination.paginate)."""
    if cursor:
        conditions = [*conditions, SR.id < decode_cursor(cursor)]
    page_ids = sa.select(SR.id).where(*conditions).order_by(SR.id.desc()).limit(page_limit)
    rows = list(session.execute(_ROWS.where(SR.id.in_(page_ids.scalar_subquery())).order_by(SR.id.desc())))
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if has_more else None)
