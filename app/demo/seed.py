"""The demo data of SPEC §10. Safe to run again: it finds before it creates."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.accounts.models import Certification, Organisation, OrgKind, PartnerTier, Role, User
from app.accounts.passwords import hash_password
from app.cases.models import Case
from app.cases.services import open_case
from app.clock import now
from app.contracts.models import CoveredSerial, Product, ServiceContract
from app.uow import unit_of_work
from app.integrations.demo import seed_integration
from app.payments.demo import seed_payments
from app.partner_status.demo import seed_partner_status
from app.programmes.demo import seed_programme
from app.triage.catalogue import seed_sample_notes

DEMO_PASSWORD = "demo-password"
FAR_FUTURE = date(2030, 12, 31)

PRODUCTS = [
    ("EXOS", "X465-48T", "ExtremeSwitching X465-48T (ExtremeXOS)"),
    ("EXOS", "X695-48Y", "ExtremeSwitching X695-48Y (ExtremeXOS)"),
    ("VOSS", "VSP4900-48P", "VSP 4900-48P (VOSS)"),
    ("WING", "AP5020", "ExtremeWireless AP5020"),
]


def _get_or_create(session, model, lookup: dict, **values):
    instance = session.scalars(sa.select(model).filter_by(**lookup)).one_or_none()
    if instance is None:
        instance = model(**lookup, **values)
        session.add(instance)
        session.flush()
    return instance


def seed_demo() -> dict[str, int]:
    """Create the demo organisations, users, contracts and a few cases; returns what exists."""
    today = now().date()
    with unit_of_work() as uow:
        password_hash = None

        def user(email, name, role, org):
            nonlocal password_hash
            existing = uow.session.scalars(sa.select(User).filter_by(email=email)).one_or_none()
            if existing is not None:
                return existing
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            return _get_or_create(uow.session, User, {"email": email}, name=name, role=role,
                                  organisation_id=org.id, password_hash=password_hash)

        vendor = _get_or_create(uow.session, Organisation, {"name": "Extreme GTAC"}, kind=OrgKind.VENDOR)
        northwind = _get_or_create(uow.session, Organisation, {"name": "Northwind Networks"},
                                   kind=OrgKind.PARTNER, tier=PartnerTier.PWP, region="EMEA")
        contoso = _get_or_create(uow.session, Organisation, {"name": "Contoso Integrators"},
                                 kind=OrgKind.PARTNER, tier=PartnerTier.PW, region="AMER")
        acme = _get_or_create(uow.session, Organisation, {"name": "Acme Corp"},
                              kind=OrgKind.CUSTOMER, partner_id=northwind.id)
        fabrikam = _get_or_create(uow.session, Organisation, {"name": "Fabrikam Ltd"},
                                  kind=OrgKind.CUSTOMER, partner_id=contoso.id)

        products = {model: _get_or_create(uow.session, Product, {"family": family, "model": model}, name=name)
                    for family, model, name in PRODUCTS}

        engineer = user("engineer@northwind.example", "Nadia Engineer", Role.PARTNER_ENGINEER, northwind)
        user("admin@northwind.example", "Noah Admin", Role.PARTNER_ADMIN, northwind)
        customer = user("customer@acme.example", "Alex Acme", Role.CUSTOMER, acme)
        contoso_engineer = user("engineer@contoso.example", "Carl Contoso", Role.PARTNER_ENGINEER, contoso)
        user("customer@fabrikam.example", "Fiona Fabrikam", Role.CUSTOMER, fabrikam)
        user("gtac@vendor.example", "Grace GTAC", Role.GTAC_ENGINEER, vendor)
        user("manager@vendor.example", "Max Manager", Role.GTAC_MANAGER, vendor)
        user("programs@vendor.example", "Priya Programs", Role.PROGRAMS, vendor)
        user("vendor-admin@vendor.example", "Vera Admin", Role.VENDOR_ADMIN, vendor)

        for family in sorted({family for family, _, _ in PRODUCTS}):
            _get_or_create(uow.session, Certification, {"user_id": engineer.id, "product_family": family},
                           expires_on=FAR_FUTURE)
        _get_or_create(uow.session, Certification, {"user_id": contoso_engineer.id, "product_family": "EXOS"},
                       expires_on=FAR_FUTURE)
        _get_or_create(uow.session, Certification, {"user_id": contoso_engineer.id, "product_family": "VOSS"},
                       expires_on=today - timedelta(days=30))

        acme_contract = _get_or_create(uow.session, ServiceContract, {"number": "PWP-ACME-2026"},
                                       customer_id=acme.id, level=PartnerTier.PWP,
                                       starts_on=date(2026, 1, 1), ends_on=FAR_FUTURE)
        for n in range(1, 11):
            model = "X465-48T" if n <= 6 else "X695-48Y"
            _get_or_create(uow.session, CoveredSerial,
                           {"contract_id": acme_contract.id, "serial_number": f"ACME-{n:04d}"},
                           product_id=products[model].id)
        fabrikam_contract = _get_or_create(uow.session, ServiceContract, {"number": "PW-FAB-2026"},
                                           customer_id=fabrikam.id, level=PartnerTier.PW,
                                           starts_on=date(2026, 1, 1), ends_on=FAR_FUTURE)
        for n in range(1, 6):
            _get_or_create(uow.session, CoveredSerial,
                           {"contract_id": fabrikam_contract.id, "serial_number": f"FAB-{n:04d}"},
                           product_id=products["VSP4900-48P"].id)

    _seed_cases(engineer, customer, acme)
    seed_payments()
    seed_programme()
    seed_partner_status()
    seed_integration()
    seed_sample_notes()  # known anomalies of every demo product (SPEC §10)
    with unit_of_work() as uow:
        return {
            "organisations": uow.session.scalar(sa.select(sa.func.count()).select_from(Organisation)),
            "users": uow.session.scalar(sa.select(sa.func.count()).select_from(User)),
            "cases": uow.session.scalar(sa.select(sa.func.count()).select_from(Case)),
        }


def _seed_cases(engineer, customer, acme) -> None:
    examples = [
        (engineer, "ACME-0001", "S2", "Stack member reboots under multicast load",
         "Slot 2 of the X465 stack reboots about once a day when IGMP snooping is busy."),
        (customer, "ACME-0007", "S3", "Fan tray alarm on core switch",
         "The X695 reports a fan tray alarm since Monday; temperatures look normal."),
    ]
    with unit_of_work() as uow:
        existing = set(uow.session.scalars(sa.select(Case.title).filter_by(customer_id=acme.id)))
    for opener, serial, severity, title, description in examples:
        if title in existing:
            continue
        open_case(opener, {"serial_number": serial, "software_version": "32.6.1.4",
                           "severity": severity, "title": title, "description": description})
