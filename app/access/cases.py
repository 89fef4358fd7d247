"""Cases (SPEC §4-5): a partner sees its customers' cases, a customer its own, GTAC the escalated
ones; the case thread's channels; the serials a case may be opened on; checklists on a case."""
from __future__ import annotations

import functools

import sqlalchemy as sa

from app.access.roles import CASE_WORKERS, PERMISSIONS
from app.accounts.models import GTAC_ROLES, PARTNER_ROLES, Organisation, Role, User
from app.cases.models import Case, Channel
from app.contracts.models import CoveredSerial, ServiceContract
from app.errors import Forbidden, NotFound, RuleViolation
from app.extensions import db

PERMISSIONS.update({
    "case.open": PARTNER_ROLES | {Role.CUSTOMER},
    "case.list": CASE_WORKERS | {Role.CUSTOMER},
    "case.audit.read": PARTNER_ROLES,
    "case.escalate": PARTNER_ROLES,
    "case.severity": PARTNER_ROLES,
    "checklist.read": PARTNER_ROLES | GTAC_ROLES,
    "checklist.respond": PARTNER_ROLES,
})

# Who may read and write each channel of a case thread.
CHANNEL_READERS: dict[Channel, frozenset[Role]] = {
    Channel.INTERNAL: PARTNER_ROLES,
    Channel.CUSTOMER: PARTNER_ROLES | {Role.CUSTOMER},
    Channel.GTAC: PARTNER_ROLES | GTAC_ROLES,
}
CHANNEL_WRITERS = CHANNEL_READERS


def _organisation_column(user: User) -> sa.Column | None:
    """The column of `cases` that names the user's organisation on every case it may see; None for
    users who see cases by another rule."""
    if user.role in PARTNER_ROLES:
        return Case.partner_id
    if user.role is Role.CUSTOMER:
        return Case.customer_id
    return None


_ESCALATED_CASES = Case.escalated_at.is_not(None)
_NO_CASE = sa.false()


def _scope_without_organisation(user: User) -> sa.ColumnElement[bool]:
    # Module constants: the same object on every call, so that parameterised_case_scope's can key a cache.
    return _ESCALATED_CASES if user.role in GTAC_ROLES else _NO_CASE


def case_scope(user: User) -> sa.ColumnElement[bool]:
    """The rows of `cases` this user can see at all."""
    column = _organisation_column(user)
    return column == user.organisation_id if column is not None else _scope_without_organisation(user)


# The organisation scopes with the organisation's id as a named parameter, one condition per column: a
# statement built once on one serves every organisation, the id travelling with each execution.
_ORGANISATION = sa.bindparam("scope_organisation_id", type_=sa.Integer(), required=True)
_BY_ORGANISATION = {column.key: column == _ORGANISATION for column in (Case.partner_id, Case.customer_id)}


def parameterised_case_scope(user: User) -> tuple[sa.ColumnElement[bool], dict[str, int]]:
    """case_scope as (condition, parameters): the same condition object for every user of a kind, so
    that it can key a cache of statements; the parameters are this user's."""
    column = _organisation_column(user)
    if column is not None:
        return _BY_ORGANISATION[column.key], {_ORGANISATION.key: user.organisation_id}
    return _scope_without_organisation(user), {}


def visible_cases(user: User) -> sa.Select:
    return sa.select(Case).where(case_scope(user))


_CASE_ID = sa.bindparam("case_id", type_=sa.Integer(), required=True)


@functools.cache
def _visible_case(scope: sa.ColumnElement[bool], *, for_update: bool) -> sa.Select:
    """The statement of get_case for one kind of user (parameterised_case_scope), built once: most
    requests about a case start with it."""
    query = sa.select(Case).where(scope, Case.id == _CASE_ID)
    return query.with_for_update(of=Case) if for_update else query


def get_case(user: User, case_id: int, *, for_update: bool = False, options: tuple = ()) -> Case:
    """The case if the user can see it, else NotFound; `options`: loader options for the caller's reading."""
    scope, parameters = parameterised_case_scope(user)
    query = _visible_case(scope, for_update=for_update)
    if options:
        query = query.options(*options)
    case = db.session.scalars(query, {**parameters, _CASE_ID.key: case_id}).one_or_none()
    if case is None:
        raise NotFound(f"Case {case_id} not found.", code="case_not_found")
    return case


def readable_channels(user: User) -> list[Channel]:
    return [channel for channel, roles in CHANNEL_READERS.items() if user.role in roles]


def writable_channels(user: User) -> list[Channel]:
    return [channel for channel, roles in CHANNEL_WRITERS.items() if user.role in roles]


def require_channel_read(user: User, channel: Channel) -> None:
    if user.role not in CHANNEL_READERS[channel]:
        raise Forbidden(f"Your role may not read the {channel.value} channel.",
                        code="channel_not_allowed", details={"channel": channel.value})


def require_channel_write(user: User, case: Case, channel: Channel) -> None:
    if user.role not in CHANNEL_WRITERS[channel]:
        raise Forbidden(f"Your role may not write to the {channel.value} channel.",
                        code="channel_not_allowed", details={"channel": channel.value})
    if channel is Channel.GTAC and case.escalated_at is None:
        raise RuleViolation("The GTAC channel opens once the case is escalated.",
                            code="gtac_channel_closed", details={"channel": channel.value})


def covered_serials_query(user: User) -> sa.Select:
    """The serials the caller may open cases on (partner: its customers'; customer: its own)."""
    query = (sa.select(CoveredSerial)
             .join(ServiceContract, CoveredSerial.contract_id == ServiceContract.id)
             .join(Organisation, ServiceContract.customer_id == Organisation.id))
    if user.role in PARTNER_ROLES:
        return query.where(Organisation.partner_id == user.organisation_id)
    if user.role is Role.CUSTOMER:
        return query.where(Organisation.id == user.organisation_id)
    return query.where(sa.false())


def _covered_serial_query(scope: sa.ColumnElement[bool]) -> sa.Select:
    return (sa.select(CoveredSerial)
            .join(ServiceContract, CoveredSerial.contract_id == ServiceContract.id)
            .join(Organisation, ServiceContract.customer_id == Organisation.id)
            .where(scope, CoveredSerial.serial_number == sa.bindparam("serial_number"))
            .options(sa.orm.contains_eager(CoveredSerial.contract).contains_eager(ServiceContract.customer))
            .order_by(ServiceContract.ends_on.desc()).limit(1))


# Asked by every case opened: built once per scope (covered_serials_query's), not per request.
_COVERED_SERIAL = {
    "partner": _covered_serial_query(Organisation.partner_id == sa.bindparam("organisation_id")),
    "customer": _covered_serial_query(Organisation.id == sa.bindparam("organisation_id")),
}


def covered_serial(user: User, serial_number: str) -> CoveredSerial | None:
    """The caller's covered serial (latest-ending contract first), or None if not the caller's."""
    if user.role in PARTNER_ROLES:
        query = _COVERED_SERIAL["partner"]
    elif user.role is Role.CUSTOMER:
        query = _COVERED_SERIAL["customer"]
    else:
        return None  # covered_serials_query: nobody else's serials
    return db.session.scalars(query, {"organisation_id": user.organisation_id,
                                      "serial_number": serial_number}).first()
