"""Lists of SRs: filters of SPEC §10, newest first or most urgent first, with keyset cursors.

A list page is read as plain rows carrying only what a list shows (the SR's own
columns, the case title, the partner's and the assignee's names), in one statement,
without ORM objects: GTAC's queue pages are the busiest reads of the service and
building and then serialising mapped objects cost more than the SQL itself.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Row

from app import access
from app.accounts.models import Organisation, User
from app.cases.models import Case, Severity
from app.bounds import MAX_ID, utc_time
from app.db import stored_text
from app.clock import now
from app.uow import UnitOfWork, unit_of_work
from app.errors import InvalidInput
from app.srs.models import ServiceRequest, SRStatus
from app.pagination import DEFAULT_LIMIT, Page, decode_cursor, keyset_page, newest_first
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
            if isinstance(last_id, bool) or not isinstance(last_id, int) or not 1 <= last_id <= MAX_ID:
                raise ValueError(last_id)
            return cls(utc_time(due) if due is not None else None, last_id)
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise InvalidInput("The cursor is not one this API issued for this order.", code="invalid_cursor",
                               details={"cursor": cursor[:100]}) from None


# The filters of a list as conditions on named parameters: a statement holds which filters are given, and
# their values come with each execution (_filter_values). A missing value is an error, never a default.
_FILTERS = {
    "queue": SR.queue == sa.bindparam("queue", type_=SR.queue.type, required=True),
    "status": SR.status == sa.bindparam("status", type_=SR.status.type, required=True),
    "severity": SR.severity == sa.bindparam("severity", type_=SR.severity.type, required=True),
    "assignee_id": SR.assignee_id == sa.bindparam("assignee_id", type_=SR.assignee_id.type, required=True),
}


def _filter_values(*, queue=None, status=None, severity=None, assignee_id=None) -> dict:
    """The filters given, by parameter name (keys of _FILTERS)."""
    values = {}
    if queue:
        values["queue"] = queue
    if status:
        values["status"] = SRStatus(status)
    if severity:
        values["severity"] = Severity(severity)
    if assignee_id is not None:
        values["assignee_id"] = assignee_id
    return values


def _conditions(given, *, open_only=False) -> list[sa.ColumnElement[bool]]:
    """The conditions of the filters named in `given`, on service_requests alone (the tenant's scope and
    breached are applied per order)."""
    conditions = [_FILTERS[name] for name in sorted(given)]
    if open_only and "status" not in given:
        conditions.append(_OPEN)
    return conditions


def _breached(breached: bool | None) -> list[sa.ColumnElement[bool]]:
    """Read-time truth at the parameter `at`: the stored due time is re-planned on every change, so no job
    needs to have run."""
    if breached is None:
        return []
    at = sa.bindparam("at", type_=SR.sla_due_at.type, required=True)
    return [SR.sla_due_at <= at] if breached else [sa.or_(SR.sla_due_at.is_(None), SR.sla_due_at > at)]


def _page_limit(generic: bool):
    """The LIMIT of a page, the parameter `page_limit`. PostgreSQL plans a prepared statement with a bound
    LIMIT afresh on every execution; with the page size written in (sizes are few) it settles on one
    generic plan instead."""
    return sa.bindparam("page_limit", type_=sa.Integer(), literal_execute=generic, required=True)


# The statements of a list page are built once per shape: per kind of user (access.parameterised_sr_scope),
# filters given, order, cursor or none. GTAC's queue pages and the partners' lists run them on every
# request, and a statement built afresh costs SQLAlchemy its cache key again (with the statements'
# construction, some 12 % of the queue page under cProfile). The values come with each execution.

@functools.cache
def _newest_page(scope: sa.ColumnElement[bool], given: frozenset[str], *, breached: bool | None, resumed: bool,
                 generic: bool) -> sa.Select:
    """Newest first (app.pagination.newest_first); `resumed` continues below the parameter `before_id`."""
    conditions = [scope, *_conditions(given), *_breached(breached)]
    if resumed:
        conditions.append(SR.id < sa.bindparam("before_id", type_=sa.Integer(), required=True))
    return newest_first(_ROWS, sa.select(SR.id).where(*conditions), SR.id, _page_limit(generic))


@functools.cache
def _urgency_scan(scope: sa.ColumnElement[bool], given: frozenset[str], *, paused: bool, breached: bool | None,
                  resumed: bool, generic: bool) -> sa.Select:
    """One of the urgency order's two scans: the running SRs by due time (`breached` bounds them at the
    parameter `at`), or the paused ones by id; `resumed` continues after a cursor (`after_due`, `after_id`)."""
    conditions = _conditions(given, open_only=True)
    after_id = sa.bindparam("after_id", type_=sa.Integer(), required=True)
    if paused:
        conditions.append(SR.sla_due_at.is_(None))
        if resumed:
            conditions.append(SR.id > after_id)
        return (_ROWS.where(*conditions, scope).order_by(SR.id)
                .limit(sa.bindparam("rows_left", type_=sa.Integer(), required=True)))
    conditions.append(SR.sla_due_at.is_not(None))
    if breached is not None:
        at = sa.bindparam("at", type_=SR.sla_due_at.type, required=True)
        conditions.append(SR.sla_due_at <= at if breached else SR.sla_due_at > at)
    if resumed:
        after_due = sa.bindparam("after_due", type_=SR.sla_due_at.type, required=True)
        conditions.append(sa.tuple_(SR.sla_due_at, SR.id) > sa.tuple_(after_due, after_id))
    return _ROWS.where(*conditions, scope).order_by(SR.sla_due_at, SR.id).limit(_page_limit(generic))


def list_srs(actor: User, **wanted) -> Page[Row]:
    """SRs the caller may see, as list rows (ROW_COLUMNS). 'urgency' lists open SRs (unless a status
    is asked) by SLA due time, the paused ones (no due time) last."""
    with unit_of_work() as uow:
        return read_srs(uow, actor, **wanted)


def read_srs(uow: UnitOfWork, actor: User, *, sort: str = "newest", limit: int = DEFAULT_LIMIT,
             cursor: str | None = None, breached: bool | None = None, **filters) -> Page[Row]:
    """list_srs() inside the caller's unit (the queue page reads its engineer select in the same one)."""
    access.require(actor, "sr.list")
    scope, parameters = access.parameterised_sr_scope(actor)
    values = _filter_values(**filters)
    parameters.update(values)
    if breached is not None:  # the only statements that bound the due time (_breached)
        parameters["at"] = now()
    given = frozenset(values)
    # One generic plan suits GTAC's queues, filtered on a few evenly used values. Lists of one
    # partner or one engineer are planned for their own values: their SR counts differ widely,
    # and a plan right for the largest would walk a whole index for the smallest.
    generic = access.sees_every_sr(actor) and "assignee_id" not in values
    if sort != "urgency":
        statement = _newest_page(scope, given, breached=breached, resumed=cursor is not None, generic=generic)
        if cursor:
            parameters["before_id"] = decode_cursor(cursor)
        rows = list(uow.session.execute(statement, {**parameters, "page_limit": limit + 1}))
        return keyset_page(rows, limit)
    after = UrgencyCursor.decode(cursor) if cursor else None
    if after is not None:
        parameters.update(after_due=after.due, after_id=after.last_id)

    def scan(paused: bool, **rows_wanted) -> list[Row]:
        statement = _urgency_scan(scope, given, paused=paused, breached=None if paused else breached,
                                  resumed=after is not None and (after.due is None) == paused, generic=generic)
        return list(uow.session.execute(statement, {**parameters, **rows_wanted}))

    rows: list[Row] = []
    # Two index range scans instead of one OR: the running SRs by due time, then the paused ones.
    # The breached filter becomes a bound on the first scan: overdue SRs are its head, and a
    # paused SR is never overdue.
    if after is None or after.due is not None:
        rows = scan(False, page_limit=limit + 1)
    if len(rows) <= limit and not breached:
        rows += scan(True, rows_left=limit + 1 - len(rows))
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = UrgencyCursor(rows[-1].sla_due_at, rows[-1].id).encode() if has_more else None
    return Page(rows, next_cursor)
