"""ISO 20022 pain.001.001.09 credit-transfer files for the bank-file adapter.

Each file holds the in-transit payouts of one currency not yet in a file;
sepaxml builds it (group and payment-information control sums and counts)
and validates it against the official XSD it ships. A payout in a file is
marked with the file's message id, so no payout goes into two files.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sepaxml import SepaTransfer

from app.audit.services import record
from app.clock import now
from app.uow import unit_of_work
from app.payments import payees
from app.payments.locking import lock_all
from app.payments.models import Payout, PayoutStatus

SCHEMA = "pain.001.001.09"


@dataclass
class BankFile:
    path: Path
    message_id: str
    currency: str
    transactions: int
    control_sum: int  # minor units


def build_document(payouts_with_payees, currency: str, execution_date: date) -> tuple[bytes, str]:
    """The pain.001 XML for (payout, payee) pairs, validated against the XSD; and its message id."""
    config = current_app.config
    transfer = SepaTransfer({"name": config["PAYMENTS_DEBTOR_NAME"], "IBAN": config["PAYMENTS_DEBTOR_IBAN"],
                             "BIC": config["PAYMENTS_DEBTOR_BIC"], "batch": True, "currency": currency},
                            schema=SCHEMA)
    for payout, payee in payouts_with_payees:
        payment = {"name": payee.holder_name[:70], "IBAN": payee.iban, "amount": payout.amount,
                   "currency": currency, "execution_date": execution_date, "endtoend_id": payout.reference,
                   "description": f"{payout.claim.type.value.upper()} claim {payout.claim_id} {payout.reference}"}
        if payee.bic:
            payment["BIC"] = payee.bic
        transfer.add_payment(payment)
    return transfer.export(validate=True), transfer.msg_id


def write_bank_files(execution_date: date | None = None) -> list[BankFile]:
    """Put every unbatched in-transit bank-file payout into a file per currency."""
    execution_date = execution_date or now().date()
    folder = Path(current_app.config["PAYMENTS_BANK_FILE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with unit_of_work() as uow:
        waiting = lock_all(uow.session, sa.select(Payout).where(
            Payout.provider == "pain001", Payout.status == PayoutStatus.IN_TRANSIT,
            Payout.provider_payout_id.is_(None)).order_by(Payout.currency, Payout.id))
        for currency in sorted({p.currency for p in waiting}):
            in_file = [p for p in waiting if p.currency == currency]
            references: dict[int, list[str]] = {}
            for payout in in_file:
                references.setdefault(payout.partner_id, []).append(payout.reference)
            found = payees.payees_for_instructions(
                {partner_id: f"bank file {', '.join(refs)}" for partner_id, refs in references.items()})
            pairs = [(p, found[p.partner_id]) for p in in_file]
            # A partner who removed its details in the meantime waits for new ones.
            pairs = [(p, payee) for p, payee in pairs if payee is not None and payee.iban]
            if not pairs:
                continue
            batch = [p for p, _ in pairs]
            document, message_id = build_document(pairs, currency, execution_date)
            path = folder / f"{message_id}.xml"
            path.write_bytes(document)
            for payout in batch:
                payout.provider_payout_id = f"{message_id}/{payout.reference}"
            total = sum(p.amount for p in batch)
            record(None, "bank_file", message_id, "bank_file.written",
                   after={"currency": currency, "transactions": len(batch), "control_sum": total,
                          "payout_ids": [p.id for p in batch]})
            written.append(BankFile(path, message_id, currency, len(batch), total))
    return written
