"""Contracts from the vendor's ERP: one line per covered serial.

`contract_number,level,customer,partner,starts_on,ends_on,serial_number,product_model`

A contract is keyed by its number and a covered serial by (contract, serial):
a later export updates both in place. A customer not yet known is created under
the named partner. The rules are app.contracts.rules, as for one contract at a time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.accounts.models import Organisation, OrgKind, PartnerTier
from app.bounds import EARLIEST_DAY, LATEST_DAY
from app.contracts import rules
from app.contracts.models import CoveredSerial, ServiceContract
from app.contracts.rules import Coverage
from app.contracts.services import contract_conflict, coverage_of, product_ids
from app.imports.file_keys import FileKeys
from app.imports.reading import Line
from app.imports.registry import ImportContext, ImportKind, register

COLUMNS = ("contract_number", "level", "customer", "partner", "starts_on", "ends_on", "serial_number",
           "product_model")


def parse_date(column: str, text: str) -> tuple[date | None, str | None]:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, f"{column} {text[:40]!r} is not an ISO date (YYYY-MM-DD)"
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        return None, f"{column} {text} is not between {EARLIEST_DAY} and {LATEST_DAY}"
    return day, None


@dataclass(slots=True)
class Plan:
    """A contract as this file gives it, from its first line on."""

    line: int
    terms: tuple  # (level, customer, partner, starts_on, ends_on) as the file gives them
    level: str
    starts_on: date
    ends_on: date
    customer: str
    partner: str
    # A customer this import creates stands as a negative number of its own until it is written.
    customer_id: int = 0
    contract_id: int | None = None
    differs: bool = True  # from what is stored (always, for a new contract)
    checked: bool = False  # its customer and stored contract looked up
    written: bool = False
    refusal: str | None = None

    def coverage(self, number: str) -> Coverage:
        return Coverage(self.contract_id, number, self.customer_id, self.starts_on, self.ends_on)


@dataclass(slots=True)
class Row:
    line: int
    number: str
    serial: str
    product_id: int


class ContractLines:
    def __init__(self, context: ImportContext):
        session = context.uow.session
        self.session, self.refuse, self.tally = session, context.refuse, context.tally
        self.products = product_ids(session)
        self.partners = dict(session.execute(
            sa.select(Organisation.name, Organisation.id).where(Organisation.kind == OrgKind.PARTNER)).all())
        self.suspended = set(session.scalars(sa.select(Organisation.name).where(
            Organisation.kind == OrgKind.PARTNER, Organisation.suspended_at.is_not(None))))
        self.customers: dict[str, tuple[int, int | None, OrgKind]] = {}  # name -> (id, partner id, kind)
        self.new_customers: dict[str, tuple[int, str]] = {}  # name -> (stand-in id, partner) until created
        self.plans: dict[str, Plan] = {}
        self.pairs = FileKeys(context.uow, parts=2)  # (contract, serial)

    # -- one batch ----------------------------------------------------------------------
    def take(self, lines: list[Line]) -> None:
        lines = self._first_of_each_pair(lines)
        rows = [row for row in (self._parse(line) for line in lines) if row is not None]
        self._check_contracts(list(dict.fromkeys(row.number for row in rows)))  # in file order
        rows = [row for row in rows if self._contract_ok(row)]
        coverage = coverage_of(self.session, [row.serial for row in rows])
        stored = self._stored_serials(rows)
        good = []
        for row in rows:
            plan = self.plans[row.number]
            problem = rules.coverage_conflict(row.serial, plan.coverage(row.number),
                                              [self._as_planned(c) for c in coverage.get(row.serial, [])])
            if problem:
                self.refuse(row.line, problem)
                continue
            coverage.setdefault(row.serial, []).append(plan.coverage(row.number))
            good.append(row)
        self._write_contracts(list(dict.fromkeys(row.number for row in good)))
        inserts, updates = [], []
        for row in good:
            plan = self.plans[row.number]
            product_id = stored.get((row.number, row.serial))
            if product_id is None:
                inserts.append({"contract_id": plan.contract_id, "serial_number": row.serial,
                                "product_id": row.product_id})
                self.tally.count("added")
            elif product_id != row.product_id:
                updates.append({"b_contract": plan.contract_id, "b_serial": row.serial, "b_product": row.product_id})
                self.tally.count("changed")
            else:
                self.tally.count("changed" if plan.differs else "unchanged")
        if inserts:
            self.session.execute(sa.insert(CoveredSerial.__table__), inserts)
        if updates:
            table = CoveredSerial.__table__
            self.session.execute(
                table.update().where(table.c.contract_id == sa.bindparam("b_contract"),
                                     table.c.serial_number == sa.bindparam("b_serial"))
                .values(product_id=sa.bindparam("b_product")), updates)

    # -- the line on its own ------------------------------------------------------------
    def _first_of_each_pair(self, lines: list[Line]) -> list[Line]:
        """The lines but those giving a (contract, serial) pair that an earlier line of the file gave, which
        are refused: whatever became of the earlier one, the file would contradict itself."""
        keyed = [(line.number, (line.values["contract_number"], line.values["serial_number"])) for line in lines
                 if not rules.text_problem("contract_number", line.values["contract_number"], rules.NUMBER_MAX)
                 and not rules.text_problem("serial_number", line.values["serial_number"], rules.SERIAL_MAX)]
        given = self.pairs.given_before(keyed)
        for number, (contract, serial) in keyed:
            if number in given:
                self.refuse(number, f"serial {serial} of contract {contract} is given already on line {given[number]}")
        return [line for line in lines if line.number not in given]

    def _parse(self, line: Line) -> Row | None:
        v = line.values
        number, serial, model = v["contract_number"], v["serial_number"], v["product_model"]
        starts_on, bad_start = parse_date("starts_on", v["starts_on"])
        ends_on, bad_end = parse_date("ends_on", v["ends_on"])
        problem = (rules.text_problem("contract_number", number, rules.NUMBER_MAX)
                   or rules.level_problem(v["level"])
                   or rules.text_problem("customer", v["customer"], 200)
                   or rules.text_problem("partner", v["partner"], 200)
                   or bad_start or bad_end
                   or rules.period_problem(starts_on, ends_on)
                   or rules.text_problem("serial_number", serial, rules.SERIAL_MAX)
                   or rules.product_problem(model, self.products))
        if problem:
            self.refuse(line.number, problem)
            return None
        terms = (v["level"], v["customer"], v["partner"], starts_on, ends_on)
        plan = self.plans.get(number)
        if plan is None:
            self.plans[number] = Plan(line.number, terms, v["level"], starts_on, ends_on, v["customer"],
                                      v["partner"])
        elif plan.terms != terms:
            self.refuse(line.number, f"contract {number} is given other terms on line {plan.line} "
                                     f"(level, customer, partner and dates must be the same on each of its lines)")
            return None
        return Row(line.number, number, serial, self.products[model.lower()])

    # -- the contract and its customer --------------------------------------------------
    def _load_customers(self, names: set[str]) -> None:
        wanted = [name for name in names if name not in self.customers]
        for start in range(0, len(wanted), 1000):
            for org_id, name, partner_id, kind in self.session.execute(
                    sa.select(Organisation.id, Organisation.name, Organisation.partner_id, Organisation.kind)
                    .where(Organisation.name.in_(wanted[start:start + 1000]))):
                self.customers[name] = (org_id, partner_id, kind)

    def _check_contracts(self, numbers: list[str]) -> None:
        """Look up, once per contract, its customer and what is stored under its number."""
        fresh = [number for number in numbers if not self.plans[number].checked]
        self._load_customers({self.plans[number].customer for number in fresh})
        stored = {}
        for start in range(0, len(fresh), 1000):
            for row in self.session.execute(
                    sa.select(ServiceContract.id, ServiceContract.number, ServiceContract.level,
                              ServiceContract.customer_id, ServiceContract.starts_on, ServiceContract.ends_on)
                    .where(ServiceContract.number.in_(fresh[start:start + 1000]))):
                stored[row.number] = row
        for number in fresh:
            plan = self.plans[number]
            plan.checked = True
            plan.refusal = self._customer_problem(plan)
            if plan.refusal or number not in stored:
                continue
            row = stored[number]
            plan.contract_id = row.id
            plan.differs = (row.level.value, row.customer_id, row.starts_on, row.ends_on) != \
                (plan.level, plan.customer_id, plan.starts_on, plan.ends_on)
            if plan.differs:
                plan.refusal = contract_conflict(self.session, row.id, plan.coverage(number))

    def _customer_problem(self, plan: Plan) -> str | None:
        found = self.customers.get(plan.customer)
        if found is None:
            if plan.partner not in self.partners:
                return f"unknown partner {plan.partner!r} (a new customer is created under a known partner)"
            if plan.partner in self.suspended:
                return f"partner {plan.partner!r} is suspended: no new customer is created under it"
            known = self.new_customers.setdefault(plan.customer, (-len(self.new_customers) - 1, plan.partner))
            if known[1] != plan.partner:
                return f"new customer {plan.customer!r} is given partner {known[1]!r} on another line"
            plan.customer_id = known[0]
            return None
        org_id, partner_id, kind = found
        if kind != OrgKind.CUSTOMER:
            return f"{plan.customer!r} is not a customer organisation"
        if partner_id != self.partners.get(plan.partner):
            return f"customer {plan.customer!r} is not served by partner {plan.partner!r}"
        plan.customer_id = org_id
        return None

    def _contract_ok(self, row: Row) -> bool:
        plan = self.plans[row.number]
        if plan.refusal:
            where = "" if plan.line == row.line else f" (line {plan.line})"
            self.refuse(row.line, f"contract {row.number}: {plan.refusal}{where}")
            return False
        return True

    def _as_planned(self, coverage: Coverage) -> Coverage:
        """A stored coverage, with the terms this file gives its contract, if it gives it."""
        plan = self.plans.get(coverage.contract_number)
        return coverage if plan is None or plan.refusal else plan.coverage(coverage.contract_number)

    def _write_contracts(self, numbers: list[str]) -> None:
        """Create or change, in a few statements, the contracts (and new customers) of the batch's good lines."""
        plans = [(number, self.plans[number]) for number in numbers if not self.plans[number].written]
        self._create_customers(list(dict.fromkeys(plan.customer for _, plan in plans if plan.customer_id < 0)))
        for _, plan in plans:
            if plan.customer_id < 0:
                plan.customer_id = self.customers[plan.customer][0]
        table = ServiceContract.__table__
        terms = {number: {"level": PartnerTier(plan.level), "customer_id": plan.customer_id,
                          "starts_on": plan.starts_on, "ends_on": plan.ends_on} for number, plan in plans}
        changed = [{"b_id": plan.contract_id, **terms[number]} for number, plan in plans
                   if plan.contract_id is not None and plan.differs]
        new = [{"number": number, **terms[number]} for number, plan in plans if plan.contract_id is None]
        if new:
            ids = {number: contract_id for contract_id, number in self.session.execute(
                table.insert().returning(table.c.id, table.c.number), new)}
            for number, plan in plans:
                plan.contract_id = ids.get(number, plan.contract_id)
        if changed:
            self.session.execute(table.update().where(table.c.id == sa.bindparam("b_id")), changed)
        for _, plan in plans:
            plan.written = True

    def _create_customers(self, names: list[str]) -> None:
        wanted = [name for name in names if name not in self.customers]
        if not wanted:
            return
        table = Organisation.__table__
        rows = [{"name": name, "kind": OrgKind.CUSTOMER, "partner_id": self.partners[self.new_customers[name][1]]}
                for name in wanted]
        for org_id, name, partner_id in self.session.execute(
                table.insert().returning(table.c.id, table.c.name, table.c.partner_id), rows):
            self.customers[name] = (org_id, partner_id, OrgKind.CUSTOMER)

    def _stored_serials(self, rows: list[Row]) -> dict[tuple[str, str], int]:
        """The product of each (contract, serial) pair of the batch already stored."""
        ids = {self.plans[row.number].contract_id for row in rows} - {None}
        serials = list({row.serial for row in rows})
        if not ids:
            return {}
        numbers = {self.plans[row.number].contract_id: row.number for row in rows}
        found = {}
        for start in range(0, len(serials), 1000):
            for contract_id, serial, product_id in self.session.execute(
                    sa.select(CoveredSerial.contract_id, CoveredSerial.serial_number, CoveredSerial.product_id)
                    .where(CoveredSerial.contract_id.in_(ids),
                           CoveredSerial.serial_number.in_(serials[start:start + 1000]))):
                found[(numbers[contract_id], serial)] = product_id
        return found


register(ImportKind("contracts", COLUMNS, ContractLines,
                    "Service contracts, one line per covered serial, from the vendor's ERP."))
