"""Reconciliation: a provider statement (CSV) matched line by line against our payouts.

Every payout we handed to the provider must appear on its statement with the
same amount, currency and state; every statement line must be one of our
payouts. Whatever does not match is listed as an exception.
"""
from __future__ import annotations

import csv
import io
from collections import Counter

import sqlalchemy as sa

from app import access
from app.accounts.models import User
from app.audit.services import record
from app.bounds import ascii_digits
from app.uow import unit_of_work
from app.errors import InvalidInput, NotFound
from app.payments.models import Payout, PayoutStatus, StatementImport
from app.payments.money import MAX_AMOUNT
from app.payments.payouts import parse_reference
from app.payments.providers.http import STATUSES
from app.telemetry import IMPORT_SECONDS

COLUMNS = ("provider_payout_id", "reference", "amount", "currency", "status")
MAX_LINES = 200_000
SENT = (PayoutStatus.IN_TRANSIT, PayoutStatus.PAID, PayoutStatus.RETURNED)


# No field of a statement line is anywhere near this long; csv refuses longer ones (csv.Error).
MAX_FIELD_CHARS = 1000


def _bad_line(number: int, message: str) -> InvalidInput:
    return InvalidInput(f"Line {number}: {message}", code="invalid_statement", details={"line": number})


def parse_statement(data: bytes) -> list[dict]:
    """Statement lines, or InvalidInput naming the first bad line (a 400, whatever the bytes)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The statement is not UTF-8 text.", code="invalid_statement") from None
    if "\x00" in text:
        number = text.count("\n", 0, text.index("\x00")) + 1
        raise _bad_line(number, "a NUL character; a statement is plain text.")
    # newline="" as the csv module wants: line breaks inside quoted fields stay in the field.
    reader = csv.reader(io.StringIO(text, newline=""))
    lines: list[dict] = []
    try:
        header = next(reader, None)
        missing = [c for c in COLUMNS if c not in (header or [])]
        if missing:
            raise InvalidInput(f"The statement lacks the column(s) {', '.join(missing)}.",
                               code="invalid_statement", details={"missing_columns": missing})
        position = {column: header.index(column) for column in COLUMNS}
        for row in reader:
            number = reader.line_num
            if not row:
                continue  # a blank line
            if len(lines) >= MAX_LINES:
                raise _bad_line(number, f"a statement holds at most {MAX_LINES} lines.")
            lines.append(_statement_line(number, row, position))
    except csv.Error as exc:
        raise _bad_line(reader.line_num, f"not CSV the statement format allows ({exc}).") from None
    return lines


def _statement_line(number: int, row: list[str], position: dict[str, int]) -> dict:
    if len(row) < len(position) or len(row) < max(position.values()) + 1:
        raise _bad_line(number, f"{len(row)} fields; every line has {', '.join(COLUMNS)}.")
    if any(len(value) > MAX_FIELD_CHARS for value in row):
        raise _bad_line(number, f"a field longer than {MAX_FIELD_CHARS} characters.")
    field = {column: row[index].strip() for column, index in position.items()}
    amount = field["amount"]
    if not ascii_digits(amount, len(str(MAX_AMOUNT))) or int(amount) > MAX_AMOUNT:
        raise _bad_line(number, f"amount must be minor units, digits 0-9, at most {MAX_AMOUNT}.")
    if field["status"] not in STATUSES:
        raise _bad_line(number, f"status must be one of {', '.join(STATUSES)}.")
    return {"line": number, "provider_payout_id": field["provider_payout_id"], "reference": field["reference"],
            "amount": int(amount), "currency": field["currency"].upper(), "status": STATUSES[field["status"]]}


def reconcile(actor: User, filename: str, data: bytes, provider: str = "sandbox") -> StatementImport:
    """Match a statement against the provider's payouts; the result is stored and returned."""
    access.require(actor, "reconciliation.run")
    with IMPORT_SECONDS.labels("statement").time():
        return _reconcile(actor, filename, data, provider)


def _reconcile(actor: User, filename: str, data: bytes, provider: str) -> StatementImport:
    lines = parse_statement(data)
    with unit_of_work() as uow:
        ours = {p.idempotency_key: p for p in uow.session.scalars(
            sa.select(Payout).where(Payout.provider == provider, Payout.status.in_(list(SENT))))}
        seen = Counter(line["reference"] for line in lines)
        exceptions, matched = [], 0
        for line in lines:
            problem = _compare(uow.session, line, ours.get(line["reference"]), seen[line["reference"]])
            if problem:
                exceptions.append({"line": line["line"], "reference": line["reference"], **problem})
            else:
                matched += 1
        for key, payout in sorted(ours.items()):
            if key not in seen:
                exceptions.append({"line": None, "reference": key, "code": "missing_from_statement",
                                   "message": f"Payout {payout.id} ({payout.status.value}) is not on the statement."})
        result = StatementImport(filename=filename[:255], imported_by_id=actor.id, lines=len(lines),
                                 matched=matched, exceptions=exceptions)
        uow.session.add(result)
        uow.session.flush()
        record(actor, "statement_import", result.id, "reconciliation.imported",
               after={"lines": len(lines), "matched": matched, "exceptions": len(exceptions)})
        return result


def _compare(session, line: dict, payout: Payout | None, occurrences: int) -> dict | None:
    if occurrences > 1:
        return {"code": "duplicate_line", "message": "The reference appears more than once."}
    if payout is None:
        parsed = parse_reference(line["reference"])
        known = parsed and session.get(Payout, parsed[0])
        if known:
            return {"code": "unexpected_state", "message": f"Payout {known.id} is {known.status.value} "
                                                           f"(attempt {known.attempt}) on our side."}
        return {"code": "unknown_reference", "message": "No payout of ours has this reference."}
    if (line["amount"], line["currency"]) != (payout.amount, payout.currency):
        return {"code": "amount_mismatch",
                "message": f"Statement {line['amount']} {line['currency']}, ours {payout.amount} {payout.currency}."}
    if line["status"] != payout.status.value:
        return {"code": "status_mismatch",
                "message": f"Statement says {line['status']}, ours is {payout.status.value}."}
    return None


def get_import(actor: User, import_id: int) -> StatementImport:
    access.require(actor, "reconciliation.run")
    with unit_of_work() as uow:
        return _import(uow.session, import_id)


def _import(session, import_id: int) -> StatementImport:
    found = session.get(StatementImport, import_id)
    if found is None:
        raise NotFound(f"Statement import {import_id} not found.", code="statement_not_found")
    return found


def recent_imports(actor: User, limit: int = 10) -> tuple[StatementImport | None, list]:
    """The newest statement import with its result, and the ones before it, newest first, in short (id,
    filename, created_at, lines, matched: their exceptions are read on their own page)."""
    access.require(actor, "reconciliation.run")
    with unit_of_work() as uow:
        short = list(uow.session.execute(
            sa.select(StatementImport.id, StatementImport.filename, StatementImport.created_at,
                      StatementImport.lines, StatementImport.matched)
            .order_by(StatementImport.id.desc()).limit(limit)))
        return (uow.session.get(StatementImport, short[0].id) if short else None), short[1:]


def import_with_neighbours(actor: User, import_id: int) -> tuple[StatementImport, int | None, int | None]:
    """One statement import, and the ids of the one imported just before and just after it (None at
    either end): every earlier statement is reached from the latest, one after another."""
    access.require(actor, "reconciliation.run")
    with unit_of_work() as uow:
        found = _import(uow.session, import_id)
        earlier = uow.session.scalar(sa.select(sa.func.max(StatementImport.id)).where(StatementImport.id < import_id))
        later = uow.session.scalar(sa.select(sa.func.min(StatementImport.id)).where(StatementImport.id > import_id))
        return found, earlier, later
