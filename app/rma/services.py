"""RMAs: a hardware SR ends in the return of up to five failed products, approved by GTAC.

The partner requests the RMA; every serial must be covered by an active
contract of the case's customer, or the whole request is refused with each
uncovered serial and why. Nothing approves an RMA but a GTAC engineer or manager.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import access
from app.accounts.models import User
from app.audit.services import record
from app.clock import now
from app.contracts.models import CoveredSerial, ServiceContract
from app.uow import UnitOfWork, unit_of_work
from app.errors import Conflict, RuleViolation
from app.srs.models import ServiceRequest, SRStatus
from app.extensions import db
from app.srs import timeline
from app.rma.models import RMA, RMA_NUMBER_SEQUENCE, RMAItem, RMANumberCounter, RMAStatus
from app.srs.models import HistoryKind

MAX_ITEMS = 5


@dataclass(frozen=True)
class RMAMove:
    source: RMAStatus
    target: RMAStatus
    permission: str


# Approval, rejection and shipping are GTAC's; the partner may confirm receipt.
RMA_MOVES = (
    RMAMove(RMAStatus.REQUESTED, RMAStatus.APPROVED, "rma.decide"),
    RMAMove(RMAStatus.REQUESTED, RMAStatus.REJECTED, "rma.decide"),
    RMAMove(RMAStatus.APPROVED, RMAStatus.SHIPPED, "rma.decide"),
    RMAMove(RMAStatus.SHIPPED, RMAStatus.RECEIVED, "rma.receive"),
)


def next_rma_number(session: Session) -> str:
    """RMA + 8 digits from a sequence (PostgreSQL) or a counter bumped in this transaction (SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.execute(sa.text(f"SELECT nextval('{RMA_NUMBER_SEQUENCE}')")).scalar_one()
    else:
        value = session.execute(
            sa.update(RMANumberCounter).where(RMANumberCounter.id == 1)
            .values(value=RMANumberCounter.value + 1).returning(RMANumberCounter.value)).scalar_one_or_none()
        if value is None:
            session.add(RMANumberCounter(id=1, value=1))
            session.flush()
            value = 1
    return f"RMA{value:08d}"


def uncovered_serials(sr: ServiceRequest, serials: list[str]) -> list[dict[str, str]]:
    """Each serial that no active contract of the SR's customer covers, with the reason."""
    case = sr.case
    today = now().date()
    refused = []
    for serial in serials:
        contracts = list(db.session.scalars(
            sa.select(ServiceContract).join(CoveredSerial, CoveredSerial.contract_id == ServiceContract.id)
            .where(CoveredSerial.serial_number == serial, ServiceContract.customer_id == case.customer_id)))
        if not contracts:
            refused.append({"serial_number": serial,
                            "reason": f"No service contract of {case.customer.name} covers this serial."})
        elif not any(contract.active_on(today) for contract in contracts):
            latest = max(contracts, key=lambda c: c.ends_on)
            refused.append({"serial_number": serial,
                            "reason": f"Contract {latest.number} covering it ended on {latest.ends_on}."
                            if latest.ends_on < today else
                            f"Contract {latest.number} covering it starts on {latest.starts_on}."})
    return refused


def _announce(uow: UnitOfWork, sr: ServiceRequest, rma: RMA, actor: User, note: str | None) -> None:
    timeline.write(uow, sr, actor, HistoryKind.RMA, note=note, data={"rma_number": rma.number, "status": rma.status.value})


def request_rma(actor: User, number: str, ship_to: str, items: list[dict[str, Any]]) -> RMA:
    """The partner asks for an RMA on a hardware SR; it waits for GTAC's approval."""
    with unit_of_work() as uow:
        sr = access.get_sr(actor, number, for_update=True)
        access.require(actor, "rma.request")
        if not sr.case.hardware_issue:
            raise RuleViolation("RMAs are for hardware SRs only.", code="not_hardware_sr")
        if sr.status is SRStatus.CLOSED:
            raise Conflict("The SR is closed; reopen it first.", code="sr_closed")
        serials = [item["serial_number"] for item in items]
        refused = uncovered_serials(sr, serials)
        if refused:
            raise RuleViolation("Some products are not covered by the customer's contract.",
                                code="serials_not_covered", details={"serials": refused})
        pending = _on_open_rmas(uow.session, sr, serials)
        if pending:
            raise Conflict("Some products are on an RMA of this SR already under way.",
                           code="serials_on_open_rma", details={"serials": pending})
        covered = {c.serial_number: c for c in uow.session.scalars(
            sa.select(CoveredSerial).join(ServiceContract, CoveredSerial.contract_id == ServiceContract.id)
            .where(CoveredSerial.serial_number.in_(serials), ServiceContract.customer_id == sr.case.customer_id))}
        rma = RMA(number=next_rma_number(uow.session), sr_id=sr.id, status=RMAStatus.REQUESTED, ship_to=ship_to,
                  requested_by_id=actor.id, requested_at=now())
        rma.items = [RMAItem(serial_number=item["serial_number"], product_id=covered[item["serial_number"]].product_id,
                             failure_description=item["failure_description"]) for item in items]
        uow.session.add(rma)
        uow.session.flush()
        record(actor, "rma", rma.id, "rma.requested",
               after={"number": rma.number, "sr_number": sr.number, "serials": serials})
        _announce(uow, sr, rma, actor, None)
        return rma


OPEN_RMA = (RMAStatus.REQUESTED, RMAStatus.APPROVED, RMAStatus.SHIPPED)


def _on_open_rmas(session: Session, sr: ServiceRequest, serials: list[str]) -> list[dict[str, str]]:
    """Each serial already on an RMA of the SR that is not rejected or received yet, with that RMA."""
    rows = session.execute(
        sa.select(RMAItem.serial_number, RMA.number, RMA.status).join(RMA, RMAItem.rma_id == RMA.id)
        .where(RMA.sr_id == sr.id, RMA.status.in_(OPEN_RMA), RMAItem.serial_number.in_(serials)).order_by(RMA.id))
    return [{"serial_number": serial, "reason": f"Already on {number}, {status.value}."}
            for serial, number, status in rows]


def get_rma(actor: User, number: str) -> RMA:
    """One RMA of an SR the caller can see (GTAC, or the SR's partner)."""
    with unit_of_work():
        return access.get_rma(actor, number)


def move_rma(actor: User, number: str, to: str, note: str | None = None, tracking: str | None = None) -> RMA:
    """Approve, reject, ship or receive: 409 for a move the RMA's status does not allow."""
    with unit_of_work() as uow:
        rma = access.get_rma(actor, number, for_update=True)
        target = RMAStatus(to)
        move = next((m for m in RMA_MOVES if m.source is rma.status and m.target is target), None)
        if move is None:
            raise Conflict(f"An RMA that is {rma.status.value} cannot become {target.value}.",
                           code="illegal_rma_transition", details={"from": rma.status.value, "to": target.value})
        access.require(actor, move.permission)
        if target is RMAStatus.SHIPPED and not tracking:
            raise RuleViolation("Shipping an RMA needs the carrier's tracking number.", code="tracking_required")
        before = rma.status.value
        at = now()
        rma.status = target
        if target in (RMAStatus.APPROVED, RMAStatus.REJECTED):
            rma.decided_by_id, rma.decided_at, rma.decision_note = actor.id, at, note
        elif target is RMAStatus.SHIPPED:
            rma.shipped_at, rma.tracking = at, tracking
        else:
            rma.received_at = at
        record(actor, "rma", rma.id, f"rma.{target.value}", before={"status": before},
               after={"status": target.value})
        _announce(uow, rma.service_request, rma, actor, note)
        return rma
