"""API test data: every kind of caller, cases of three customers of two partners, row counts.

The cases are opened and their messages posted through the services, as users
do. Only escalation is written directly (`escalated_at` and the status): the
real one needs a complete checklist, certifications and an SR, which is not
what these tests are about, and GTAC needs escalated cases to see.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import ApiToken, Organisation, OrgKind, PartnerTier, User
from app.accounts.services import issue_token, revoke_token
from app.cases.models import Case, CaseStatus, Severity
from app.cases.services import open_case, post_message
from app.clock import now
from app.contracts.models import CoveredSerial, Product, ServiceContract
from app.uow import unit_of_work
from app.extensions import db

# The tables a refused request is most likely to touch; count_rows() counts every table and
# fails if one of these is missing, so that a renamed table cannot empty the check.
WRITTEN_TABLES = ("cases", "case_messages", "audit_events", "outbox_events", "api_tokens",
                  "login_failures")

# Who opens cases for each customer organisation, and which partner serves it.
PARTNER_OF = {"acme": "northwind", "globex": "northwind", "fabrikam": "contoso"}
OPENER = {"acme": "engineer", "globex": "engineer", "fabrikam": "contoso"}

# name: (customer, serial, severity, status, escalated, title)
CASES = {
    "acme_open": ("acme", "ACME-0002", "S1", "open", False, "Core switch down after upgrade"),
    "acme_escalated": ("acme", "ACME-0003", "S2", "escalated", True, "BGP sessions drop every hour"),
    "acme_resolved": ("acme", "ACME-0008", "S3", "resolved", True, "Fan noise on X695"),
    "acme_closed": ("acme", "ACME-0004", "S4", "closed", False, "Question about licence keys"),
    "globex_open": ("globex", "GLX-0001", "S2", "open", False, "Uplink flaps on stack"),
    "globex_escalated": ("globex", "GLX-0002", "S1", "escalated", True, "Stack split brain"),
    "fabrikam_open": ("fabrikam", "FAB-0001", "S1", "open", False, "VSP reboots with core dump"),
    "fabrikam_escalated": ("fabrikam", "FAB-0002", "S2", "escalated", True,
                           "Fabric Connect ISIS adjacency lost"),
    "fabrikam_closed": ("fabrikam", "FAB-0003", "S3", "closed", False, "Uplink flaps after reboot"),
}

# Messages each case's thread starts with: (author, channel); gtac only once escalated.
THREAD = (("opener", "internal"), ("opener", "customer"), ("opener", "gtac"), ("gtac", "gtac"))


@dataclass(frozen=True)
class CaseRecord:
    """What the test knows about a case, independently of the access rules under test."""

    id: int
    customer: str
    partner: str
    serial_number: str
    severity: str
    status: str
    escalated: bool
    title: str


@dataclass
class CaseBook:
    """Every case in the database, by name, and the messages of each thread."""

    cases: dict[str, CaseRecord]
    messages: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def ids(self, keep) -> list[int]:
        """Ids of the cases for which keep(record) holds, newest first (the API's order)."""
        return sorted((c.id for c in self.cases.values() if keep(c)), reverse=True)


# The counting statement of each database (its tables are the migrations', fixed for the run):
# reading the table names again for every count was a third of its cost.
_COUNTING: dict[str, tuple[list[str], sa.TextClause]] = {}


def count_rows() -> dict[str, int]:
    """Row counts of every table (needs an app context); WRITTEN_TABLES must be among them."""
    with db.engine.connect() as connection:
        url = str(db.engine.url)
        if url not in _COUNTING:
            tables = set(sa.inspect(connection).get_table_names())
            assert tables.issuperset(WRITTEN_TABLES), set(WRITTEN_TABLES) - tables
            counted = sorted(table for table in tables if table != "alembic_version")
            # One statement for every table: a statement each cost a hundred round trips a count.
            _COUNTING[url] = counted, sa.text(" UNION ALL ".join(
                f"SELECT '{table}', count(*) FROM \"{table}\"" for table in counted))
        counted, statement = _COUNTING[url]
        found = dict(connection.execute(statement).all())
        return {table: found[table] for table in counted}


@pytest.fixture
def row_counts(app):
    """A callable returning the current row count of every table."""
    def counts() -> dict[str, int]:
        with app.app_context():
            return count_rows()
    return counts


@pytest.fixture
def callers(app, demo, tokens):
    """Request headers of every kind of caller: each demo user, nobody, a bad and a revoked token."""
    with app.app_context():
        engineer = db.session.get(User, demo["engineer"].id)
        secret, token = issue_token(engineer, "revoked")
        revoke_token(engineer, token.id)
        db.session.remove()
    return {
        **tokens,
        "anonymous": {},
        "bad_token": {"Authorization": "Bearer gtac_this-token-was-never-issued"},
        "revoked_token": {"Authorization": f"Bearer {secret}"},
    }


@pytest.fixture
def token_ids(app, callers):
    """Ids of the API tokens each demo user owns, read straight from the table."""
    with app.app_context():
        rows = db.session.execute(sa.select(User.email, ApiToken.id).join(ApiToken.user)).all()
        db.session.remove()
    by_email: dict[str, set[int]] = {}
    for email, token_id in rows:
        by_email.setdefault(email, set()).add(token_id)
    return by_email


def _add_globex(session, northwind_id: int) -> None:
    """A second customer of Northwind, so that a customer's scope is its organisation, not its partner."""
    globex = Organisation(name="Globex Corporation", kind=OrgKind.CUSTOMER, partner_id=northwind_id)
    session.add(globex)
    session.flush()
    contract = ServiceContract(number="PWP-GLOBEX-2026", customer_id=globex.id, level=PartnerTier.PWP,
                               starts_on=date(2026, 1, 1), ends_on=now().date() + timedelta(days=3650))
    session.add(contract)
    session.flush()
    product = session.scalars(sa.select(Product).filter_by(model="X465-48T")).one()
    for n in range(1, 6):
        session.add(CoveredSerial(contract_id=contract.id, serial_number=f"GLX-{n:04d}",
                                  product_id=product.id))


@pytest.fixture
def case_book(app, demo) -> CaseBook:
    """The demo cases plus CASES, each with the THREAD its state allows, in one transaction."""
    with app.app_context():
        users = {name: db.session.get(User, user.id) for name, user in demo.items()}
        dispatch = app.extensions["outbox_dispatch"]
        # Set-up data notifies nobody: its events are written but not run (each run commits).
        app.extensions["outbox_dispatch"] = lambda events: 0
        try:
            with unit_of_work() as uow:
                _add_globex(uow.session, users["engineer"].organisation_id)
            names, states = {}, {}
            for name, (customer, serial, severity, status, escalated, title) in CASES.items():
                case = open_case(users[OPENER[customer]], {
                    "serial_number": serial, "software_version": "32.6.1.4",
                    "severity": severity, "title": title,
                    "description": f"{title}. Seen since the last maintenance window.",
                })
                names[case.id], states[case.id] = name, (status, escalated)
            with unit_of_work() as uow:
                for case_id, (status, escalated) in states.items():
                    # Escalation, written directly (see the module docstring).
                    case = uow.session.get(Case, case_id)
                    case.status = CaseStatus(status)
                    case.escalated_at = now() if escalated else None
            book = _read_book(names)
            for name, record in book.cases.items():
                for author, channel in THREAD if name in CASES else ():
                    if channel == "gtac" and not record.escalated:
                        continue
                    actor = users[OPENER[record.customer] if author == "opener" else author]
                    message = post_message(actor, record.id, channel, f"{channel} note by {author}")
                    book.messages.setdefault(name, []).append((message.id, channel))
        finally:
            app.extensions["outbox_dispatch"] = dispatch
        db.session.remove()
    return book


def _read_book(names: dict[int, str]) -> CaseBook:
    customer_names = {"Acme Corp": "acme", "Globex Corporation": "globex", "Fabrikam Ltd": "fabrikam"}
    cases = {}
    for case in db.session.scalars(sa.select(Case).order_by(Case.id)):
        customer = customer_names[case.customer.name]
        name = names.get(case.id, f"demo_{case.id}")
        cases[name] = CaseRecord(
            id=case.id, customer=customer, partner=PARTNER_OF[customer],
            serial_number=case.serial_number, severity=Severity(case.severity).value,
            status=CaseStatus(case.status).value, escalated=case.escalated_at is not None,
            title=case.title)
    return CaseBook(cases)


def assert_error(answer, status: int, code: str | None = None) -> dict:
    """The answer has this status and the SPEC §10 error body; returns the error object."""
    assert answer.status_code == status, (answer.status_code, answer.get_data(as_text=True)[:500])
    assert answer.is_json, answer.get_data(as_text=True)[:500]
    error = answer.json["error"]
    assert set(error) == {"code", "message", "details", "request_id"}, error
    assert error["request_id"] == answer.headers["X-Request-ID"], error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error


def check_each(items, check, describe=lambda *item: str(item[0])) -> None:
    """Run check(*item) for every item; then fail once, naming every item whose check failed."""
    problems = []
    for item in items:
        try:
            check(*item)
        except AssertionError as exc:
            problems.append(f"{describe(*item)}: {exc}")
    assert not problems, "\n".join(problems)
