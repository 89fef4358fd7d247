"""Partners' bookings from the vendor's systems, as CSV.

Format: UTF-8, a header row `partner,invoice_reference,date,product_family,amount,currency`,
then one booking a line: the partner's organisation name, the invoice reference (the
booking's identity), an ISO date, the product family, the amount as a decimal string in
major units ("1234.50") and the ISO 4217 currency. The amount becomes minor units exactly,
by the currency's exponent; more decimals than the currency has is a bad line.

The file is read as a stream, a chunk of lines at a time, in one transaction: memory
stays flat whatever its length. A line whose invoice reference is known with the same
booking changes nothing (importing a file twice: 0 changes); with another booking it is
a bad line. A new booking that would count only in closed periods is a bad line too: their
rebates are claimed already. Every bad line is reported as `file:line: reason`. When any line is bad,
nothing is written unless bad lines are to be skipped; a dry run writes nothing at all.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Iterable

import sqlalchemy as sa

from app import access
from app.accounts.models import Organisation, OrgKind, User
from app.audit.services import record
from app.bounds import unstorable_text
from app.payments.money import is_currency, parse_amount
from app.programmes.models import ProgrammePeriod, RebateProgramme, Sale
from app.uow import unit_of_work

COLUMNS = ["partner", "invoice_reference", "date", "product_family", "amount", "currency"]
CHUNK = 2000
MOST_REPORTED = 1000  # bad lines listed in full; the count covers all of them


class Rollback(Exception):
    """Leaves the import's unit of work without writing (a dry run, or bad lines not skipped)."""


@dataclass
class ImportReport:
    filename: str
    lines: int = 0
    created: int = 0
    unchanged: int = 0
    bad_count: int = 0
    bad: list[str] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    def refuse(self, line: int, reason: str) -> None:
        self.bad_count += 1
        if len(self.bad) < MOST_REPORTED:
            self.bad.append(f"{self.filename}:{line}: {reason}")


class _Context:
    """What checking a line needs, loaded once: partners by name, periods and their currencies."""

    def __init__(self, session):
        # Closing a period locks its programme: an import waits for a close under way and a close for the
        # import, so a new sale never lands in a period closed meanwhile.
        session.execute(sa.select(RebateProgramme.id).with_for_update(read=True)).all()
        self.partners = dict(session.execute(sa.select(Organisation.name, Organisation.id)
                                             .where(Organisation.kind == OrgKind.PARTNER)).all())
        self.periods = list(session.execute(sa.select(ProgrammePeriod.starts_on, ProgrammePeriod.ends_on,
                                                      RebateProgramme.currency, ProgrammePeriod.label,
                                                      RebateProgramme.name, ProgrammePeriod.closed_at)
                                            .join(RebateProgramme)).all())

    def check(self, row: list[str]) -> tuple[dict, None] | tuple[None, str]:
        if len(row) != len(COLUMNS):
            return None, f"{len(row)} fields, expected {len(COLUMNS)}"
        if any(unstorable_text(value) for value in row):
            return None, "a field contains a NUL character"
        name, reference, day, family, amount, currency = (value.strip() for value in row)
        partner_id = self.partners.get(name)
        if partner_id is None:
            return None, f"unknown partner {name!r}"
        if not reference or len(reference) > 64:
            return None, "the invoice reference is empty or longer than 64 characters"
        if not family or len(family) > 32:
            return None, "the product family is empty or longer than 32 characters"
        if not is_currency(currency):
            return None, f"unknown currency {currency!r}"
        try:
            sold_on = date.fromisoformat(day)
        except ValueError:
            return None, f"date {day!r} is not a date (YYYY-MM-DD)"
        covering = {c for start, end, c, *_ in self.periods if start <= sold_on <= end}
        if not covering:
            return None, f"date {day} is outside every programme period"
        if currency not in covering:
            return None, f"no programme period on {day} counts sales in {currency}"
        try:
            minor = parse_amount(amount, currency, zero=True)
        except ValueError as exc:
            return None, str(exc)
        return {"partner_id": partner_id, "invoice_reference": reference, "sold_on": sold_on,
                "product_family": family, "amount": minor, "currency": currency}, None


    def closed_on(self, booking: dict) -> str | None:
        """The closed periods a booking would count in, as a person names them, when every period it
        would count in is closed; None when one is still open to it (another programme's quarter)."""
        covering = [(f"{name} {label}", closed_at) for start, end, currency, label, name, closed_at in self.periods
                    if currency == booking["currency"] and start <= booking["sold_on"] <= end]
        if not all(closed_at is not None for _, closed_at in covering):
            return None
        return " and ".join(named for named, _ in covering)


def _same(sale: Sale, booking: dict) -> bool:
    return all(getattr(sale, key) == value for key, value in booking.items())


def import_sales(actor: User | None, lines: Iterable[str], filename: str, *, dry_run: bool = False,
                 skip_bad: bool = False) -> ImportReport:
    """Import a bookings CSV (an iterable of text lines, e.g. an open file); see the module doc.

    actor is None for the operator's command line; a person must be allowed `sales.import`.
    """
    if actor is not None:
        access.require(actor, "sales.import")
    report = ImportReport(filename=filename, dry_run=dry_run)
    try:
        with unit_of_work() as uow:
            _run(uow, report, lines, skip_bad)
            if dry_run or (report.bad_count and not skip_bad):
                raise Rollback
            record(actor, "sales_import", filename[:64], "sales.imported",
                   after={"lines": report.lines, "created": report.created, "unchanged": report.unchanged,
                          "skipped": report.bad_count})
            report.written = True
    except Rollback:
        pass
    return report


def _run(uow, report: ImportReport, lines: Iterable[str], skip_bad: bool) -> None:
    context = _Context(uow.session)
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None or [h.strip().lstrip("\ufeff") for h in header] != COLUMNS:
            report.refuse(1, "the header must be " + ",".join(COLUMNS))
            return
        chunk: list[tuple[int, dict]] = []
        for row in reader:
            if not any(value.strip() for value in row):
                continue
            report.lines += 1
            booking, reason = context.check(row)
            if reason:
                report.refuse(reader.line_num, reason)
            else:
                chunk.append((reader.line_num, booking))
            if len(chunk) >= CHUNK:
                _write(uow.session, context, report, chunk)
                chunk = []
        _write(uow.session, context, report, chunk)
    except UnicodeDecodeError:
        report.refuse(reader.line_num + 1, "not UTF-8 text")
    except csv.Error as exc:
        report.refuse(reader.line_num, f"not CSV ({exc})")


def _write(session, context: _Context, report: ImportReport, chunk: list[tuple[int, dict]]) -> None:
    """Insert a chunk's new bookings; a known reference must carry the same booking."""
    if not chunk:
        return
    known = {sale.invoice_reference: sale for sale in session.scalars(
        sa.select(Sale).where(Sale.invoice_reference.in_({b["invoice_reference"] for _, b in chunk})))}
    new = []
    for line, booking in chunk:
        sale = known.get(booking["invoice_reference"])
        closed = context.closed_on(booking) if sale is None else None
        if closed:
            report.refuse(line, f"{closed} is closed and its rebates claimed: a new sale dated "
                                f"{booking['sold_on']} cannot count in it")
        elif sale is None:
            sale = Sale(**booking)
            known[sale.invoice_reference] = sale
            new.append(sale)
            report.created += 1
        elif _same(sale, booking):
            report.unchanged += 1
        else:
            report.refuse(line, f"invoice {booking['invoice_reference']} is known with another booking")
    session.add_all(new)
    session.flush()
    for sale in known.values():  # written: the identity map need not keep them (flat memory)
        session.expunge(sale)


def text_lines(stream: IO[bytes]) -> Iterable[str]:
    """A binary upload as UTF-8 text lines (a byte-order mark is allowed)."""
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
