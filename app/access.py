"""Tenant scoping and role rules: the one place every feature asks.

Two questions, always in this order:
1. Can the caller see the object? Queries start from the scopes below, so an
   object of another tenant is simply not found (404, no existence leak).
2. May the caller's role do this to an object it can see? If not, 403.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import GTAC_ROLES, PARTNER_ROLES, Organisation, Role, User
from app.attachments.models import Attachment, AttachmentVisibility
from app.cases.models import Case, Channel
from app.contracts.models import CoveredSerial, ServiceContract
from app.errors import Forbidden, NotFound, RuleViolation
from app.srs.models import ServiceRequest
from app.extensions import db
from app.payments.models import Claim, Payout

ALL_ROLES = frozenset(Role)
CASE_WORKERS = PARTNER_ROLES | GTAC_ROLES

# action -> roles allowed to attempt it (visibility is checked separately).
PERMISSIONS: dict[str, frozenset[Role]] = {
    "token.issue": ALL_ROLES,
    "case.open": PARTNER_ROLES | {Role.CUSTOMER},
    "case.list": CASE_WORKERS | {Role.CUSTOMER},
    "case.audit.read": PARTNER_ROLES,
    "case.escalate": PARTNER_ROLES,
    "checklist.read": PARTNER_ROLES | GTAC_ROLES,
    "checklist.respond": PARTNER_ROLES,
    "attachment.upload": PARTNER_ROLES | {Role.CUSTOMER},
}

# Who may read and write each channel of a case thread.
CHANNEL_READERS: dict[Channel, frozenset[Role]] = {
    Channel.INTERNAL: PARTNER_ROLES,
    Channel.CUSTOMER: PARTNER_ROLES | {Role.CUSTOMER},
    Channel.GTAC: PARTNER_ROLES | GTAC_ROLES,
}
CHANNEL_WRITERS = CHANNEL_READERS

# Who may see each kind of attachment of a case they can see. The SR's thread is the
# partner's and GTAC's: GTAC never reaches the customer, nor do its files.
ATTACHMENT_READERS: dict[AttachmentVisibility, frozenset[Role]] = {
    AttachmentVisibility.CASE: ALL_ROLES,
    AttachmentVisibility.GTAC_THREAD: PARTNER_ROLES | GTAC_ROLES,
}


def allowed(user: User, action: str) -> bool:
    return user.role in PERMISSIONS[action]


def require(user: User, action: str) -> None:
    if not allowed(user, action):
        raise Forbidden(f"Your role ({user.role.value}) may not do this.", code="role_not_allowed",
                        details={"action": action})


def case_scope(user: User) -> sa.ColumnElement[bool]:
    """The rows of `cases` this user can see at all."""
    if user.role in PARTNER_ROLES:
        return Case.partner_id == user.organisation_id
    if user.role is Role.CUSTOMER:
        return Case.customer_id == user.organisation_id
    if user.role in GTAC_ROLES:
        return Case.escalated_at.is_not(None)
    return sa.false()


def visible_cases(user: User) -> sa.Select:
    return sa.select(Case).where(case_scope(user))


def get_case(user: User, case_id: int, *, for_update: bool = False) -> Case:
    query = visible_cases(user).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update(of=Case)
    case = db.session.scalars(query).one_or_none()
    if case is None:
        raise NotFound(f"Case {case_id} not found.", code="case_not_found")
    return case


def attachment_scope(user: User) -> sa.ColumnElement[bool]:
    """The attachments, of cases this user sees, that the user's role may see."""
    return Attachment.visibility.in_([visibility for visibility, roles in ATTACHMENT_READERS.items()
                                      if user.role in roles])


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


def covered_serial(user: User, serial_number: str) -> CoveredSerial | None:
    """The caller's covered serial (latest-ending contract first), or None if not the caller's."""
    query = (covered_serials_query(user).where(CoveredSerial.serial_number == serial_number)
             .options(sa.orm.contains_eager(CoveredSerial.contract).contains_eager(ServiceContract.customer))
             .order_by(ServiceContract.ends_on.desc()).limit(1))
    return db.session.scalars(query).first()


# --- Payments (SPEC §8): claims, payouts, funding, payee details -------------------------
# Partners see their own organisation's claims and payouts; the programmes team sees all.

PAYMENTS_STAFF = frozenset({Role.PROGRAMS})
PERMISSIONS.update({
    "claim.file": frozenset({Role.PARTNER_ADMIN}),
    "claim.read": frozenset({Role.PARTNER_ADMIN}) | PAYMENTS_STAFF,
    "claim.decide": PAYMENTS_STAFF,
    "mdf.manage": PAYMENTS_STAFF,
    "payout.read": frozenset({Role.PARTNER_ADMIN}) | PAYMENTS_STAFF,
    "payout.retry": PAYMENTS_STAFF,
    "funding.record": PAYMENTS_STAFF,
    "ledger.read": PAYMENTS_STAFF,
    "reconciliation.run": PAYMENTS_STAFF,
    # Bank details: only the partner's admin enters them; everyone sees them masked.
    "payee.manage": frozenset({Role.PARTNER_ADMIN}),
    "payee.read": frozenset({Role.PARTNER_ADMIN}) | PAYMENTS_STAFF,
})


def _partner_rows(user: User, partner_column) -> sa.ColumnElement[bool]:
    if user.role in PARTNER_ROLES:
        return partner_column == user.organisation_id
    if user.role in PAYMENTS_STAFF:
        return sa.true()
    return sa.false()


def visible_claims(user: User) -> sa.Select:
    return sa.select(Claim).where(_partner_rows(user, Claim.partner_id))


def get_claim(user: User, claim_id: int) -> Claim:
    claim = db.session.scalars(visible_claims(user).where(Claim.id == claim_id)).one_or_none()
    if claim is None:
        raise NotFound(f"Claim {claim_id} not found.", code="claim_not_found")
    return claim


def visible_payouts(user: User) -> sa.Select:
    return sa.select(Payout).where(_partner_rows(user, Payout.partner_id))


def get_payout(user: User, payout_id: int) -> Payout:
    payout = db.session.scalars(visible_payouts(user).where(Payout.id == payout_id)).one_or_none()
    if payout is None:
        raise NotFound(f"Payout {payout_id} not found.", code="payout_not_found")
    return payout


def payee_partner(user: User, partner_id: int | None) -> int:
    """Whose bank details the caller asks about: staff may name a partner, a partner only itself."""
    if user.role in PAYMENTS_STAFF and partner_id:
        return partner_id
    return user.organisation_id


# --- Triage (SPEC §7): known anomalies, duplicates, severity flags, rulings ------------------
# Partners triage their cases; GTAC reads the partner's triage and rulings on escalated cases.
PERMISSIONS.update({
    "triage.read": PARTNER_ROLES | GTAC_ROLES,
    "triage.rule": PARTNER_ROLES,
    # Resolving with a known fix instead of escalating, and reopening when it did not help.
    "triage.resolve": PARTNER_ROLES,
})


# --- GTAC service requests (SPEC §6): GTAC sees every SR, a partner its own ---------------
# Customers and the programmes team never see SRs: to them an SR does not exist (404).

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
    # Moves of the SR workflow (app/srs/workflow.py), one permission per move.
    "sr.move.take": GTAC_ROLES,
    "sr.move.start": GTAC_ROLES,
    "sr.move.request_info": GTAC_ROLES,
    "sr.move.resume": GTAC_ROLES | PARTNER_ROLES,  # the partner has answered what GTAC asked
    "sr.move.provide_solution": GTAC_ROLES,
    "sr.move.close": GTAC_ROLES | PARTNER_ROLES,  # the partner accepts the solution
    "sr.move.reopen": PARTNER_ROLES,  # within the reopen window
    "rma.request": PARTNER_ROLES,
    "rma.decide": GTAC_ROLES,  # approve, reject, ship: never automatic
    "rma.receive": GTAC_ROLES | PARTNER_ROLES,  # either side confirms the replacement arrived
    "webhook.manage": frozenset({Role.PARTNER_ADMIN}),
})
# Moves a GTAC engineer may make only on SRs assigned to them (a manager on any SR).
ASSIGNEE_ONLY_MOVES = frozenset({"start", "request_info", "resume", "provide_solution", "close"})


def sr_scope(user: User) -> sa.ColumnElement[bool]:
    """The rows of `service_requests` this user can see at all."""
    if user.role in GTAC_ROLES:
        return sa.true()
    if user.role in PARTNER_ROLES:
        return ServiceRequest.partner_id == user.organisation_id
    return sa.false()


def visible_srs(user: User) -> sa.Select:
    return sa.select(ServiceRequest).where(sr_scope(user))


def get_sr(user: User, number: str, *, for_update: bool = False) -> ServiceRequest:
    query = visible_srs(user).where(ServiceRequest.number == number)
    if for_update:
        query = query.with_for_update(of=ServiceRequest)
    service_request = db.session.scalars(query).one_or_none()
    if service_request is None:
        raise NotFound(f"SR {number} not found.", code="sr_not_found")
    return service_request


def require_sr_move(user: User, service_request: ServiceRequest, move: str) -> None:
    """403 unless the caller's role may make this move, and a GTAC engineer works this SR."""
    require(user, f"sr.move.{move}")
    if (user.role is Role.GTAC_ENGINEER and move in ASSIGNEE_ONLY_MOVES
            and service_request.assignee_id != user.id):
        raise Forbidden("Only the assigned engineer or a GTAC manager may move this SR.",
                        code="not_assignee", details={"move": move})
