"""Putting SRs in a given state: through the API as users do, or straight in the tables for wide sweeps."""
from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from app.accounts.models import Organisation, User
from app.cases.models import Case, CaseStatus, Severity
from app.clock import now
from app.contracts.models import CoveredSerial
from app.srs.models import SRHistory, SRStatus
from app.srs.opening import open_service_request
from app.uow import unit_of_work
from app.extensions import db
from tests.case_helpers import complete_checklist, new_case


def escalate(client, tokens, **case_fields) -> str:
    """A Northwind case escalated through the API; returns its SR number."""
    case = new_case(client, tokens["engineer"], **case_fields)
    complete_checklist(client, tokens["engineer"], case["id"])
    answer = client.post(f"/api/v1/cases/{case['id']}/escalation", json={}, headers=tokens["engineer"])
    assert answer.status_code == 201, answer.json
    return answer.json["sr_number"]


def move(client, headers, number, to, **body):
    return client.post(f"/api/v1/srs/{number}/transitions", json={"to": to, **body}, headers=headers)


def get_sr(client, headers, number) -> dict:
    answer = client.get(f"/api/v1/srs/{number}", headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalars(sa.select(User.id).filter_by(email=email)).one()


@contextmanager
def _undispatched(app):
    dispatch = app.extensions["outbox_dispatch"]
    app.extensions["outbox_dispatch"] = lambda events: 0
    try:
        yield
    finally:
        app.extensions["outbox_dispatch"] = dispatch


def make_sr(app, status: str = "new", *, assignee_email: str | None = "gtac@vendor.example",
            severity: str = "S2", serial: str = "ACME-0002", queue: str = "EXOS-EMEA") -> str:
    """An escalated Northwind case and its SR in `status`, written directly (no API round trips).

    The SR is opened as escalation opens it (app.srs.opening: clocks started, an
    `opened` entry); then it is put in `status` as if GTAC had moved it there at
    creation time, with no entry for the move. Set-up data notifies nobody: the opening's
    events are written but not handed over.
    """
    with app.app_context(), _undispatched(app), unit_of_work() as uow:
        session = uow.session
        covered = session.scalars(sa.select(CoveredSerial).filter_by(serial_number=serial)).first()
        customer = session.get(Organisation, covered.contract.customer_id)
        opener = session.scalars(sa.select(User).filter_by(email="engineer@northwind.example")).one()
        at = now()
        case = Case(partner_id=customer.partner_id, customer_id=customer.id, opened_by_id=opener.id,
                    product_id=covered.product_id, serial_number=serial, software_version="32.6.1.4",
                    severity=Severity(severity), status=CaseStatus.ESCALATED, title="Generated for a sweep",
                    description="x", checklist_name="partnerworks-gtac", checklist_version=1, escalated_at=at)
        session.add(case)
        session.flush()
        assignee = (session.scalars(sa.select(User).filter_by(email=assignee_email)).one()
                    if assignee_email and status != "new" else None)
        sr = open_service_request(uow, case, opener, queue)
        sr.status = SRStatus(status)
        sr.assignee_id = assignee.id if assignee else None
        sr.solution_provided_at = at if status in ("solution_provided", "closed") else None
        sr.closed_at = at if status == "closed" else None
        sr.paused_at = at if status == "awaiting_partner" else None
        session.scalars(sa.select(SRHistory).filter_by(sr_id=sr.id)).one().to_status = status
        return sr.number
