"""Service contracts and their covered serials, one at a time (vendor_admin).

The rules are app.contracts.rules; the queries they need (which contracts cover
these serials, which product a model names) are here, and the import uses them
too, so that a contract entered by hand and one imported are held to the same rules.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app import access
from app.accounts.models import Organisation, OrgKind, PartnerTier, User
from app.audit.services import record
from app.contracts import rules
from app.contracts.models import CoveredSerial, Product, ServiceContract
from app.contracts.rules import Coverage
from app.errors import Conflict, InvalidInput, NotFound, RuleViolation, refuse_days_out_of_range
from app.extensions import db
from app.pagination import Page, paginate
from app.uow import unit_of_work


# --- Queries shared with the import ------------------------------------------------------

def product_ids(session) -> dict[str, int | None]:
    """Every product model, in lower case, and its product's id; None for a model two families share."""
    found: dict[str, int | None] = {}
    for product_id, model in session.execute(sa.select(Product.id, Product.model)):
        found[model.lower()] = None if model.lower() in found else product_id
    return found


def coverage_of(session, serials: Iterable[str]) -> dict[str, list[Coverage]]:
    """The contracts that cover each of these serials now, as stored (this transaction's writes included)."""
    wanted = list(set(serials))
    found: dict[str, list[Coverage]] = {}
    for start in range(0, len(wanted), 1000):
        rows = session.execute(
            sa.select(CoveredSerial.serial_number, ServiceContract.id, ServiceContract.number,
                      ServiceContract.customer_id, ServiceContract.starts_on, ServiceContract.ends_on)
            .join(ServiceContract, ServiceContract.id == CoveredSerial.contract_id)
            .where(CoveredSerial.serial_number.in_(wanted[start:start + 1000])))
        for serial, *contract in rows:
            found.setdefault(serial, []).append(Coverage(*contract))
    return found


def contract_conflict(session, contract_id: int, wanted: Coverage) -> str | None:
    """Whether the contract, given these customer and dates, would put one of its serials on two
    customers' contracts in force on the same day."""
    mine = sa.orm.aliased(CoveredSerial)
    theirs = sa.orm.aliased(CoveredSerial)
    row = session.execute(
        sa.select(mine.serial_number, ServiceContract.number, ServiceContract.starts_on, ServiceContract.ends_on)
        .join(theirs, sa.and_(theirs.serial_number == mine.serial_number, theirs.contract_id != contract_id))
        .join(ServiceContract, ServiceContract.id == theirs.contract_id)
        .where(mine.contract_id == contract_id, ServiceContract.customer_id != wanted.customer_id,
               ServiceContract.starts_on <= wanted.ends_on, ServiceContract.ends_on >= wanted.starts_on)
        .limit(1)).first()
    if row is None:
        return None
    serial, number, starts_on, ends_on = row
    return rules.coverage_conflict(serial, wanted, [Coverage(None, number, -1, starts_on, ends_on)])


# --- One contract at a time ---------------------------------------------------------------

def list_contracts(user: User, limit: int, cursor: str | None, number: str | None = None) -> Page[ServiceContract]:
    access.require(user, "contract.manage")
    query = sa.select(ServiceContract)
    if number:
        query = query.where(ServiceContract.number == number)
    return paginate(db.session, query, ServiceContract.id, limit, cursor)


def get_contract(user: User, contract_id: int) -> ServiceContract:
    access.require(user, "contract.manage")
    contract = db.session.get(ServiceContract, contract_id)
    if contract is None:
        raise NotFound(f"Contract {contract_id} not found.", code="contract_not_found")
    return contract


def customers(user: User) -> list[Organisation]:
    """The customer organisations a contract may be for (the forms' choices)."""
    access.require(user, "contract.manage")
    return list(db.session.scalars(
        sa.select(Organisation).where(Organisation.kind == OrgKind.CUSTOMER).order_by(Organisation.name)))


def create_contract(user: User, number: str, level: str, customer_id: int, starts_on: date,
                    ends_on: date) -> ServiceContract:
    access.require(user, "contract.manage")
    try:
        return _create_contract(user, number, level, customer_id, starts_on, ends_on)
    except IntegrityError:  # the same number, created meanwhile by an import or another person
        raise Conflict(f"Contract {number.strip()} exists already.", code="contract_exists",
                       details={"number": number.strip()}) from None


def _create_contract(user: User, number: str, level: str, customer_id: int, starts_on: date,
                     ends_on: date) -> ServiceContract:
    with unit_of_work() as uow:
        number = _checked(number, level, starts_on, ends_on)
        customer = _customer(uow.session, customer_id)
        if uow.session.scalar(sa.select(ServiceContract.id).where(ServiceContract.number == number)):
            raise Conflict(f"Contract {number} exists already.", code="contract_exists",
                           details={"number": number})
        contract = ServiceContract(number=number, level=PartnerTier(level), customer_id=customer.id,
                                   starts_on=starts_on, ends_on=ends_on)
        uow.session.add(contract)
        uow.session.flush()
        record(user, "service_contract", contract.id, "created", after=_state(contract))
    return contract


def update_contract(user: User, contract_id: int, changes: dict) -> ServiceContract:
    """Change a contract's level, customer or dates; its number is its natural key and stays."""
    contract = get_contract(user, contract_id)
    with unit_of_work() as uow:
        before = _state(contract)
        level = changes.get("level", contract.level.value)
        starts_on = changes.get("starts_on", contract.starts_on)
        ends_on = changes.get("ends_on", contract.ends_on)
        _checked(contract.number, level, starts_on, ends_on)
        customer_id = _customer(uow.session, changes["customer_id"]).id if "customer_id" in changes \
            else contract.customer_id
        problem = contract_conflict(uow.session, contract.id,
                                    Coverage(contract.id, contract.number, customer_id, starts_on, ends_on))
        if problem:
            raise RuleViolation(f"Contract {contract.number}: {problem}.", code="serial_on_two_customers")
        contract.level, contract.customer_id = PartnerTier(level), customer_id
        contract.starts_on, contract.ends_on = starts_on, ends_on
        uow.session.flush()
        if _state(contract) != before:
            record(user, "service_contract", contract.id, "changed", before=before, after=_state(contract))
    db.session.refresh(contract)
    return contract


def add_serial(user: User, contract_id: int, serial_number: str, product_model: str) -> CoveredSerial:
    contract = get_contract(user, contract_id)
    try:
        return _add_serial(user, contract, serial_number, product_model)
    except IntegrityError:  # the same serial, added meanwhile by an import or another person
        raise Conflict(f"Serial {serial_number.strip()} is on contract {contract.number} already.",
                       code="serial_exists", details={"serial_number": serial_number.strip()}) from None


def _add_serial(user: User, contract: ServiceContract, serial_number: str, product_model: str) -> CoveredSerial:
    with unit_of_work() as uow:
        serial_number, product_model = serial_number.strip(), product_model.strip()
        _refuse(rules.text_problem("the serial number", serial_number, rules.SERIAL_MAX), "invalid_serial")
        products = product_ids(uow.session)
        _refuse(rules.product_problem(product_model, products), "unknown_product_model")
        existing = coverage_of(uow.session, [serial_number]).get(serial_number, [])
        if any(c.contract_id == contract.id for c in existing):
            raise Conflict(f"Serial {serial_number} is on contract {contract.number} already.",
                           code="serial_exists", details={"serial_number": serial_number})
        wanted = Coverage(contract.id, contract.number, contract.customer_id, contract.starts_on, contract.ends_on)
        problem = rules.coverage_conflict(serial_number, wanted, existing)
        if problem:
            raise RuleViolation(f"{problem[0].upper()}{problem[1:]}.", code="serial_on_two_customers",
                                details={"serial_number": serial_number})
        covered = CoveredSerial(contract_id=contract.id, serial_number=serial_number,
                                product_id=products[product_model.lower()])
        uow.session.add(covered)
        uow.session.flush()
        record(user, "service_contract", contract.id, "serial_added",
               after={"serial_number": serial_number, "product_model": product_model})
    return covered


def remove_serial(user: User, contract_id: int, serial_number: str) -> None:
    contract = get_contract(user, contract_id)
    with unit_of_work() as uow:
        covered = uow.session.scalars(sa.select(CoveredSerial).where(
            CoveredSerial.contract_id == contract.id, CoveredSerial.serial_number == serial_number)).one_or_none()
        if covered is None:
            raise NotFound(f"Serial {serial_number} is not on contract {contract.number}.",
                           code="serial_not_found")
        record(user, "service_contract", contract.id, "serial_removed",
               before={"serial_number": serial_number, "product_model": covered.product.model})
        uow.session.delete(covered)


def _checked(number: str, level: str, starts_on: date, ends_on: date) -> str:
    refuse_days_out_of_range(starts_on=starts_on, ends_on=ends_on)
    number = number.strip()
    _refuse(rules.text_problem("the contract number", number, rules.NUMBER_MAX), "invalid_number")
    _refuse(rules.level_problem(level), "unknown_level")
    _refuse(rules.period_problem(starts_on, ends_on), "ends_before_start")
    return number


def _refuse(problem: str | None, code: str) -> None:
    if problem:
        raise InvalidInput(f"{problem[0].upper()}{problem[1:]}.", code=code)


def _customer(session, customer_id: int) -> Organisation:
    customer = session.get(Organisation, customer_id)
    if customer is None or customer.kind != OrgKind.CUSTOMER:
        raise RuleViolation(f"Organisation {customer_id} is not a customer.", code="unknown_customer",
                            details={"customer_id": customer_id})
    return customer


def _state(contract: ServiceContract) -> dict:
    return {"number": contract.number, "level": contract.level.value, "customer_id": contract.customer_id,
            "starts_on": contract.starts_on.isoformat(), "ends_on": contract.ends_on.isoformat()}
