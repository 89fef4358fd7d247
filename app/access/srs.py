"""GTAC service requests (SPEC §6): GTAC sees every SR, a partner its own.

Customers and the programmes team never see SRs: to them an SR does not exist (404). A customer
reads only its own case's progress: the SR number and customer-safe stages (sr.progress.read).
"""
from __future__ import annotations

import functools

import sqlalchemy as sa

from app.access.roles import PERMISSIONS, allowed, require
from app.accounts.models import GTAC_ROLES, PARTNER_ROLES, Role, User
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.srs.models import ServiceRequest, with_newest_entry

GTAC_MANAGERS = frozenset({Role.GTAC_MANAGER})
PERMISSIONS.update({
    "sr.list": PARTNER_ROLES | GTAC_ROLES,
    "sr.read": PARTNER_ROLES | GTAC_ROLES,
    "sr.message": PARTNER_ROLES | GTAC_ROLES,
    "sr.severity": GTAC_ROLES,
    "sr.assign": GTAC_MANAGERS,  # assign to someone else, reassign
    "sr.queue": GTAC_ROLES,
    "sr.dashboard": GTAC_MANAGERS,
    "sr.management_escalation": PARTNER_ROLES,
    "sr.attachment.upload": PARTNER_ROLES | GTAC_ROLES,  # files on the thread: never the customer's
    "sr.progress.read": frozenset({Role.CUSTOMER}),  # its own case's SR number and stages, never GTAC's words
    # Moves of the SR workflow (app/srs/workflow.py), one permission per move.
    "sr.move.take": GTAC_ROLES,
    "sr.move.start": GTAC_ROLES,
    "sr.move.request_info": GTAC_ROLES,
    "sr.move.resume": GTAC_ROLES | PARTNER_ROLES,  # the partner has answered what GTAC asked
    "sr.move.provide_solution": GTAC_ROLES,
    "sr.move.close": GTAC_ROLES | PARTNER_ROLES,  # the partner accepts the solution
    "sr.move.reopen": PARTNER_ROLES,  # within the reopen window
})
# Moves a GTAC engineer may make only on SRs assigned to them (a manager on any SR).
ASSIGNEE_ONLY_MOVES = frozenset({"start", "request_info", "resume", "provide_solution", "close"})


# Module constants: the same object on every call, so that parameterised_sr_scope's can key a cache.
_EVERY_SR = sa.true()
_NO_SR = sa.false()
# A partner's scope with its id as a named parameter: a statement built once on it serves every partner.
_PARTNER = sa.bindparam("scope_partner_id", type_=sa.Integer(), required=True)
_BY_PARTNER = ServiceRequest.partner_id == _PARTNER


def sees_every_sr(user: User) -> bool:
    """GTAC: its scope lets every SR through (SQLAlchemy leaves the condition out of the SQL)."""
    return user.role in GTAC_ROLES


def sr_scope(user: User) -> sa.ColumnElement[bool]:
    """The rows of `service_requests` this user can see at all."""
    if user.role in PARTNER_ROLES:
        return ServiceRequest.partner_id == user.organisation_id
    return _EVERY_SR if sees_every_sr(user) else _NO_SR


def parameterised_sr_scope(user: User) -> tuple[sa.ColumnElement[bool], dict[str, int]]:
    """sr_scope as (condition, parameters): the same condition object for every user of a kind, so that
    it can key a cache of statements; the parameters are this user's."""
    if user.role in PARTNER_ROLES:
        return _BY_PARTNER, {_PARTNER.key: user.organisation_id}
    return sr_scope(user), {}


_SR_NUMBER = sa.bindparam("sr_number", type_=ServiceRequest.number.type, required=True)


@functools.cache
def _visible_sr(scope: sa.ColumnElement[bool], *, for_update: bool, newest_entry: bool) -> sa.Select:
    """The statement of get_sr for one kind of user (parameterised_sr_scope), built once: every request
    about an SR starts with it."""
    # Overwrite an SR an earlier unit of the same request loaded (the session outlives its units and keeps
    # what they read): an event stream reads the SR, then the entries written since, which carry the SR.
    query = (sa.select(ServiceRequest).where(scope, ServiceRequest.number == _SR_NUMBER)
             .execution_options(populate_existing=True))
    if newest_entry:
        query = query.options(with_newest_entry())
    return query.with_for_update(of=ServiceRequest) if for_update else query


def get_sr(user: User, number: str, *, for_update: bool = False, newest_entry: bool = False) -> ServiceRequest:
    """The SR if the user can see it, else NotFound; with `newest_entry`, its newest_entry_id read with it."""
    scope, parameters = parameterised_sr_scope(user)
    query = _visible_sr(scope, for_update=for_update, newest_entry=newest_entry)
    service_request = db.session.scalars(query, {**parameters, _SR_NUMBER.key: number}).one_or_none()
    if service_request is None:
        raise NotFound(f"SR {number} not found.", code="sr_not_found")
    return service_request


def sr_feed_partner(user: User) -> int | None:
    """Whose SRs' live events this user hears: None for GTAC (every SR), else its own partner's."""
    require(user, "sr.list")
    return None if sees_every_sr(user) else user.organisation_id


def _works_on(user: User, service_request: ServiceRequest, move: str) -> bool:
    return not (user.role is Role.GTAC_ENGINEER and move in ASSIGNEE_ONLY_MOVES
                and service_request.assignee_id != user.id)


def may_move_sr(user: User, service_request: ServiceRequest, move: str) -> bool:
    """Whether require_sr_move() would let this caller make this move now."""
    return allowed(user, f"sr.move.{move}") and _works_on(user, service_request, move)


def require_sr_move(user: User, service_request: ServiceRequest, move: str) -> None:
    """403 unless the caller's role may make this move, and a GTAC engineer works this SR."""
    require(user, f"sr.move.{move}")
    if not _works_on(user, service_request, move):
        raise Forbidden("Only the assigned engineer or a GTAC manager may move this SR.",
                        code="not_assignee", details={"move": move})
