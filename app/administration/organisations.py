"""Partner and customer organisations: created, renamed, re-tiered, moved and suspended by the
vendor's admins, each change audited in its own transaction.

A suspended partner keeps its data and its open SRs (GTAC goes on working them); what the
suspension stops is checked where it bites: sign-in (app.accounts.services.authenticate),
opening a case and escalating (app.cases.services, app.escalation.services).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app import access
from app.accounts.models import Organisation, OrgKind, User
from app.administration import rules
from app.audit.services import record
from app.clock import now
from app.errors import Conflict, RuleViolation
from app.extensions import db
from app.uow import UnitOfWork, unit_of_work


def snapshot(organisation: Organisation) -> dict[str, Any]:
    """What the audit trail keeps of an organisation before and after a change."""
    found = {"name": organisation.name}
    if organisation.kind is OrgKind.PARTNER:
        found.update(tier=organisation.tier.value, region=organisation.region,
                     suspended=organisation.suspended)
    else:
        found["partner_id"] = organisation.partner_id
    return found


def _names_unique():
    return rules.unique("Another organisation took this name a moment ago.", "organisation_name_taken")


def list_organisations(actor: User, kind: OrgKind, *, partner_id: int | None = None) -> list[Organisation]:
    """Every partner or customer, by name; customers of one partner only when `partner_id` is given."""
    access.require(actor, "organisation.manage")
    query = access.administered_organisations(actor, kind).order_by(sa.func.lower(Organisation.name))
    if partner_id is not None:
        query = query.where(Organisation.partner_id == partner_id)
    with unit_of_work() as uow:
        return list(uow.session.scalars(query))


def get(actor: User, kind: OrgKind, organisation_id: int) -> Organisation:
    access.require(actor, "organisation.manage")
    with unit_of_work():
        return access.get_organisation(actor, kind, organisation_id)


def create_partner(actor: User, name, tier, region) -> Organisation:
    access.require(actor, "organisation.manage")
    partner = Organisation(name=rules.organisation_name(name), kind=OrgKind.PARTNER, tier=rules.tier(tier),
                           region=rules.region(region))
    with _names_unique(), unit_of_work() as uow:
        return _add(uow, actor, partner)


def create_customer(actor: User, name, partner_id: int) -> Organisation:
    access.require(actor, "organisation.manage")
    name = rules.organisation_name(name)
    with _names_unique(), unit_of_work() as uow:
        customer = Organisation(name=name, kind=OrgKind.CUSTOMER, partner=_serving_partner(actor, partner_id))
        return _add(uow, actor, customer)


def _add(uow: UnitOfWork, actor: User, organisation: Organisation) -> Organisation:
    _refuse_taken_name(uow, organisation.name)
    organisation.created_at = now()
    uow.session.add(organisation)
    uow.session.flush()
    record(actor, "organisation", organisation.id, f"{organisation.kind.value}.created",
           after=snapshot(organisation))
    return organisation


def update_partner(actor: User, partner_id: int, changes: dict[str, Any]) -> Organisation:
    """Rename, re-tier or move a partner to another region; only the fields given change."""
    access.require(actor, "organisation.manage")
    wanted = {}
    if "name" in changes:
        wanted["name"] = rules.organisation_name(changes["name"])
    if "tier" in changes:
        wanted["tier"] = rules.tier(changes["tier"])
    if "region" in changes:
        wanted["region"] = rules.region(changes["region"])
    with _names_unique(), unit_of_work() as uow:
        partner = access.get_organisation(actor, OrgKind.PARTNER, partner_id)
        return _change(uow, actor, partner, wanted)


def update_customer(actor: User, customer_id: int, changes: dict[str, Any]) -> Organisation:
    """Rename a customer, or move it to another partner: the cases opened before stay with the
    partner that worked them; the customer's next case goes to the new one."""
    access.require(actor, "organisation.manage")
    wanted = {}
    if "name" in changes:
        wanted["name"] = rules.organisation_name(changes["name"])
    with _names_unique(), unit_of_work() as uow:
        customer = access.get_organisation(actor, OrgKind.CUSTOMER, customer_id)
        if "partner_id" in changes and changes["partner_id"] != customer.partner_id:
            wanted["partner"] = _serving_partner(actor, changes["partner_id"])
        return _change(uow, actor, customer, wanted)


def _change(uow: UnitOfWork, actor: User, organisation: Organisation, wanted: dict[str, Any]) -> Organisation:
    before = snapshot(organisation)
    if "name" in wanted and wanted["name"].lower() != organisation.name.lower():
        _refuse_taken_name(uow, wanted["name"])
    for attribute, value in wanted.items():
        setattr(organisation, attribute, value)
    uow.session.flush()
    after = snapshot(organisation)
    if after != before:
        record(actor, "organisation", organisation.id, f"{organisation.kind.value}.updated",
               before=before, after=after)
    return organisation


def suspend_partner(actor: User, partner_id: int) -> Organisation:
    """Its users and its customers' users can no longer sign in; it can no longer open cases or escalate."""
    access.require(actor, "organisation.manage")
    with unit_of_work():
        partner = access.get_organisation(actor, OrgKind.PARTNER, partner_id)
        if partner.suspended:
            raise Conflict(f"{partner.name} is already suspended.", code="partner_already_suspended",
                           details={"suspended_at": partner.suspended_at.isoformat()})
        before = snapshot(partner)
        partner.suspended_at = now()
        record(actor, "organisation", partner.id, "partner.suspended", before=before, after=snapshot(partner))
        return partner


def reinstate_partner(actor: User, partner_id: int) -> Organisation:
    """Everything the suspension stopped works again."""
    access.require(actor, "organisation.manage")
    with unit_of_work():
        partner = access.get_organisation(actor, OrgKind.PARTNER, partner_id)
        if not partner.suspended:
            raise Conflict(f"{partner.name} is not suspended.", code="partner_not_suspended")
        before = snapshot(partner)
        partner.suspended_at = None
        record(actor, "organisation", partner.id, "partner.reinstated", before=before, after=snapshot(partner))
        return partner


def _serving_partner(actor: User, partner_id) -> Organisation:
    """The partner a customer is to be served by: an existing partner that is not suspended."""
    partner = None
    if isinstance(partner_id, int) and not isinstance(partner_id, bool):
        partner = db.session.scalars(access.administered_organisations(actor, OrgKind.PARTNER)
                                     .where(Organisation.id == partner_id)).one_or_none()
    if partner is None:
        message = "A customer is served by a partner: choose one of the partners."
        raise RuleViolation(message, code="not_a_partner",
                            details={"partner_id": partner_id, "fields": {"partner_id": [message]}})
    if partner.suspended:
        raise RuleViolation(f"{partner.name} is suspended: it cannot take on customers.",
                            code="partner_suspended", details={"partner_id": partner.id})
    return partner


def _refuse_taken_name(uow: UnitOfWork, name: str) -> None:
    taken = uow.session.scalar(sa.select(Organisation.name).where(sa.func.lower(Organisation.name) == name.lower()))
    if taken is not None:
        raise Conflict(f"An organisation is already named {taken}.", code="organisation_name_taken",
                       details={"name": taken})

