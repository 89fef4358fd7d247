"""Partners' bank details: entered by the partner, validated, encrypted at rest.

Keys come from PAYEE_ENCRYPTION_KEYS (comma-separated Fernet keys, newest
first); MultiFernet decrypts with any of them and `flask payments rotate-payee-key`
re-encrypts every record under the first. Nobody reads the details in clear
through the API or the pages: they show the masked form. The only clear read
is the one that builds a provider instruction, and it is audited.
"""
from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import MultiFernet
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from app import access, crypto
from app.accounts.models import User
from app.audit.models import AuditEvent
from app.audit.services import record
from app.bounds import ascii_digits
from app.clock import now
from app.uow import unit_of_work
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.payments.models import PayeeAccount, PayeeKind
from app.payments.providers import Payee

log = logging.getLogger(__name__)


def _keys() -> list[str]:
    # Embedded demo only (production refuses to start without keys): derived from the secret key.
    return crypto.keys("PAYEE_ENCRYPTION_KEYS", "payee-details")


def cipher() -> MultiFernet:
    """Encrypts with the first key, decrypts with any."""
    return crypto.cipher("PAYEE_ENCRYPTION_KEYS", "payee-details")


def aba_checksum_ok(routing: str) -> bool:
    """The ABA routing-number check digit: 3-7-1 weights, sum divisible by 10."""
    if len(routing) != 9 or not ascii_digits(routing):
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights)) % 10 == 0


def validate(data: dict[str, Any]) -> tuple[PayeeKind, dict[str, str], str]:
    """Normalised details and their masked form, or InvalidInput naming each bad field.

    Only the chosen kind's details are asked for and kept: an IBAN account (IBAN, optional BIC)
    needs no US numbers, a US account (account and ABA routing number) no IBAN. Details of the
    other kind are ignored, filled in or not."""
    errors: dict[str, list[str]] = {}
    kind = PayeeKind(data["kind"])
    if kind is PayeeKind.IBAN:
        details: dict[str, str] = {}
        if not (data.get("iban") or "").strip():
            errors["iban"] = ["Give the IBAN, starting with its country code."]
        else:
            try:
                iban = IBAN(data["iban"])
                details["iban"] = iban.compact
            except SchwiftyException as exc:
                errors["iban"] = [f"Not a valid IBAN: {exc}"]
        if data.get("bic"):
            try:
                details["bic"] = str(BIC(data["bic"]))
            except SchwiftyException as exc:
                errors["bic"] = [f"Not a valid BIC: {exc}"]
        if errors:
            raise InvalidInput("The bank details are not valid.", details={"fields": errors})
        compact = details["iban"]
        masked = f"{compact[:4]} **** {compact[-4:]}"
    else:
        account_number = (data.get("account_number") or "").replace(" ", "")
        routing = (data.get("routing_number") or "").replace(" ", "")
        if not (ascii_digits(account_number) and 4 <= len(account_number) <= 17):
            errors["account_number"] = ["An account number is 4 to 17 digits."]
        if not aba_checksum_ok(routing):
            errors["routing_number"] = ["Not a valid ABA routing number (checksum)."]
        if errors:
            raise InvalidInput("The bank details are not valid.", details={"fields": errors})
        details = {"account_number": account_number, "routing_number": routing}
        masked = f"****{account_number[-4:]} (routing ****{routing[-4:]})"
    return kind, details, masked


def set_payee(actor: User, data: dict[str, Any]) -> PayeeAccount:
    """The partner admin enters its own organisation's bank details (staff never can)."""
    access.require(actor, "payee.manage")
    kind, details, masked = validate(data)
    token = cipher().encrypt(json.dumps(details).encode()).decode()
    partner_id = access.acting_partner(actor)
    with unit_of_work() as uow:
        payee = uow.session.scalars(sa.select(PayeeAccount).where(PayeeAccount.partner_id == partner_id)).one_or_none()
        before = {"kind": payee.kind.value, "masked": payee.masked} if payee else None
        if payee is None:
            payee = PayeeAccount(partner_id=partner_id)
            uow.session.add(payee)
        payee.kind, payee.holder_name, payee.ciphertext, payee.masked = (
            kind, data["holder_name"].strip(), token, masked)
        payee.updated_by_id = actor.id
        uow.session.flush()
        record(actor, "payee", payee.partner_id, "payee.updated", before=before,
               after={"kind": kind.value, "masked": masked})
        log.info("bank details of partner %s set by user %s: %s", partner_id, actor.id, masked)
        return payee


def get_payee(actor: User, partner_id: int | None = None) -> PayeeAccount:
    """The masked details of the caller's partner (programmes: any partner). Audited."""
    access.require(actor, "payee.read")
    target = access.payee_partner(actor, partner_id)
    with unit_of_work() as uow:
        payee = uow.session.scalars(sa.select(PayeeAccount).where(PayeeAccount.partner_id == target)).one_or_none()
        if payee is None:
            raise NotFound("No bank details on file.", code="payee_not_found")
        record(actor, "payee", payee.partner_id, "payee.viewed_masked")
        return payee


def payee_for_instruction(partner_id: int, purpose: str) -> Payee | None:
    """The clear details for one provider instruction, with an audit event."""
    return payees_for_instructions({partner_id: purpose})[partner_id]


def payees_for_instructions(purposes: dict[int, str]) -> dict[int, Payee | None]:
    """Clear details per partner for provider instructions, one audit event per partner read.

    The audit rows are written in the caller's unit of work, which commits before
    any instruction leaves for the provider.
    """
    rows = db.session.scalars(sa.select(PayeeAccount).where(PayeeAccount.partner_id.in_(list(purposes))))
    found: dict[int, Payee | None] = dict.fromkeys(purposes)
    for payee in rows:
        details = json.loads(cipher().decrypt(payee.ciphertext.encode()))
        found[payee.partner_id] = Payee(kind=payee.kind.value, holder_name=payee.holder_name, **details)
    audits = [{"at": now(), "actor_id": None, "entity_type": "payee", "entity_id": str(partner_id),
               "action": "payee.decrypted", "before": None, "after": {"purpose": purposes[partner_id]}}
              for partner_id, payee in found.items() if payee is not None]
    if audits:
        db.session.execute(sa.insert(AuditEvent.__table__), audits)
    return found


def rotate_keys() -> int:
    """Re-encrypt every record under the first configured key; returns how many."""
    with unit_of_work() as uow:
        rotated = crypto.rotate_column(uow.session, PayeeAccount, "ciphertext", cipher(), "payee")
        record(None, "payee", "*", "payee.keys_rotated", after={"records": rotated})
    return rotated
