"""Partner status demo data: a level set, Northwind at Select and Contoso at Registered, trainings,
specialisations, one exception and one programme-wide waiver, so that Northwind's Performance &
Training Dashboard shows requirements met, due and waived at once. Safe to run again: an existing
level set is left as it is."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import Organisation, User
from app.clock import now
from app.partner_status import changes, levels
from app.partner_status.models import PartnerLevel, RequirementKind
from app.uow import unit_of_work

CERTIFIED, TRAINING, SPECIALISATION = (RequirementKind.CERTIFIED_ENGINEERS, RequirementKind.TRAINING,
                                       RequirementKind.SPECIALISATION)


def seed_partner_status() -> None:
    with unit_of_work() as uow:
        if uow.session.scalar(sa.select(PartnerLevel.id).limit(1)):
            return
        people = {u.email: u for u in uow.session.scalars(sa.select(User).where(User.email.in_(
            ["programs@vendor.example", "engineer@northwind.example", "engineer@contoso.example"])))}
        partners = {o.name: o for o in uow.session.scalars(sa.select(Organisation).where(Organisation.name.in_(
            ["Northwind Networks", "Contoso Integrators"])))}
    programs = people["programs@vendor.example"]
    northwind, contoso = partners["Northwind Networks"], partners["Contoso Integrators"]
    today = now().date()
    soon, later, far = today + timedelta(days=45), today + timedelta(days=120), today + timedelta(days=300)
    registered = levels.create_level(programs, "Registered", 1, [
        ("CERT-EXOS", CERTIFIED, "EXOS", 1, later),
        ("TRN-SALES", TRAINING, "Partner Sales Foundations", 1, later)])
    select = levels.create_level(programs, "Select", 2, [
        ("CERT-EXOS", CERTIFIED, "EXOS", 2, later),
        ("CERT-VOSS", CERTIFIED, "VOSS", 1, later),
        ("TRN-FABRIC", TRAINING, "Fabric Connect Essentials", 1, soon),
        ("SPEC-CAMPUS", SPECIALISATION, "Campus Fabric", 1, later),
        ("SPEC-WIRELESS", SPECIALISATION, "Wireless", 1, soon)])
    levels.create_level(programs, "Premier", 3, [
        ("CERT-EXOS", CERTIFIED, "EXOS", 4, far),
        ("CERT-VOSS", CERTIFIED, "VOSS", 2, far),
        ("SPEC-CAMPUS", SPECIALISATION, "Campus Fabric", 1, far),
        ("SPEC-DATACENTER", SPECIALISATION, "Data Center Fabric", 1, far)])
    levels.set_status(programs, northwind.id, select.id, far, later)
    levels.set_status(programs, contoso.id, registered.id, later, later)
    levels.record_training(programs, people["engineer@northwind.example"].id, "Fabric Connect Essentials",
                           today - timedelta(days=60))
    levels.record_training(programs, people["engineer@northwind.example"].id, "Partner Sales Foundations",
                           today - timedelta(days=200))
    levels.add_specialisation(programs, northwind.id, "Campus Fabric", today - timedelta(days=180), soon)
    levels.add_specialisation(programs, contoso.id, "Campus Fabric", today - timedelta(days=400),
                              today - timedelta(days=35))
    trn_sales = next(r for r in registered.requirements if r.code == "TRN-SALES")
    levels.grant_exception(programs, contoso.id, trn_sales.id, soon, "New sales team joined this quarter.")
    wireless = next(r for r in select.requirements if r.code == "SPEC-WIRELESS")
    changes.apply_change(programs, changes.ChangeRequest("waive_requirement", later, requirement_id=wireless.id),
                         "The Wireless specialisation exam is being rewritten; waived until it is available.")
