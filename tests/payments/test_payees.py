"""Payee bank details: entered by the partner only, validated, encrypted, masked, audited, rotatable."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.audit.models import AuditEvent
from app.extensions import db
from app.payments import payees
from app.payments.models import PayeeAccount

IBAN = {"kind": "iban", "holder_name": "Northwind Networks Ltd", "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "COBADEFFXXX"}
ABA = {"kind": "aba", "holder_name": "Northwind Inc", "account_number": "000123456789",
       "routing_number": "011000015"}


def test_partner_admin_enters_iban_and_sees_it_masked(client, tokens, app):
    answer = client.put("/api/v1/payee", json=IBAN, headers=tokens["admin"])
    assert answer.status_code == 200, answer.json
    assert answer.json["masked"] == "DE89 **** 3000"
    assert "0532013000" not in str(answer.json)
    shown = client.get("/api/v1/payee", headers=tokens["admin"]).json
    assert shown["masked"] == "DE89 **** 3000" and "iban" not in shown
    with app.app_context():
        stored = db.session.scalars(sa.select(PayeeAccount)).one()
        assert "DE89370400440532013000" not in stored.ciphertext
        assert "0532013000" not in stored.ciphertext
        db.session.remove()


def test_aba_account_with_a_valid_checksum_is_accepted(client, tokens):
    answer = client.put("/api/v1/payee", json=ABA, headers=tokens["admin"])
    assert answer.status_code == 200, answer.json
    assert answer.json["masked"] == "****6789 (routing ****0015)"


@pytest.mark.parametrize("body, field", [
    ({**IBAN, "iban": "DE89 3704 0044 0532 0130 01"}, "iban"),  # check digits wrong
    ({**IBAN, "iban": "not an iban"}, "iban"),
    ({**IBAN, "bic": "NOTABIC"}, "bic"),
    ({**ABA, "routing_number": "011000016"}, "routing_number"),  # ABA checksum fails
    ({**ABA, "account_number": "12ab"}, "account_number"),
])
def test_invalid_bank_details_are_refused_by_field(client, tokens, app, body, field):
    with app.app_context():
        before = db.session.scalars(sa.select(PayeeAccount.ciphertext)).one()
        db.session.remove()
    answer = client.put("/api/v1/payee", json=body, headers=tokens["admin"])
    assert answer.status_code == 400
    assert field in answer.json["error"]["details"]["fields"]
    with app.app_context():
        assert db.session.scalars(sa.select(PayeeAccount.ciphertext)).one() == before  # unchanged
        db.session.remove()


def stored_details(app) -> tuple[list[tuple], int]:
    """Every payee row, whole, and how many audit events there are."""
    with app.app_context():
        rows = [tuple(row) for row in db.session.execute(sa.select(PayeeAccount.__table__).order_by(PayeeAccount.id))]
        audited = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        db.session.remove()
    return rows, audited


@pytest.mark.parametrize("who", ["programs", "gtac", "engineer", "vendor_admin"])
def test_staff_and_engineers_can_never_enter_bank_details(client, tokens, app, who):
    before = stored_details(app)
    assert len(before[0]) == 1  # Northwind's own, entered by its admin; the engineer is Northwind's too
    answer = client.put("/api/v1/payee", json=IBAN, headers=tokens[who])
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "role_not_allowed"
    # Nothing written: no payee for the caller's organisation, Northwind's unchanged, nothing audited.
    assert stored_details(app) == before


def test_programmes_see_a_partners_details_masked_and_every_read_is_audited(client, tokens, demo, app):
    partner_id = demo["admin"].organisation_id
    answer = client.get("/api/v1/payee", query_string={"partner_id": partner_id}, headers=tokens["programs"])
    assert answer.status_code == 200
    assert answer.json["masked"] == "GB33 **** 5555"
    with app.app_context():
        reads = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.entity_type == "payee", AuditEvent.action == "payee.viewed_masked"))
        db.session.remove()
    assert reads == 1


def test_the_clear_read_for_a_provider_instruction_is_audited(app, demo):
    with app.app_context():
        payee = payees.payee_for_instruction(demo["admin"].organisation_id, "payout PO0000000001")
        assert payee.iban == "GB33BUKB20201555555555"
        assert "GB33" not in repr(payee)
        db.session.commit()
        actions = list(db.session.scalars(sa.select(AuditEvent.after).where(AuditEvent.action == "payee.decrypted")))
        db.session.remove()
    assert actions == [{"purpose": "payout PO0000000001"}]


def test_key_rotation_re_encrypts_under_the_new_key(app, demo, monkeypatch):
    partner_id = demo["admin"].organisation_id
    with app.app_context():
        old_key = payees._keys()[0]
        new_key = Fernet.generate_key().decode()
        monkeypatch.setitem(app.config, "PAYEE_ENCRYPTION_KEYS", [new_key, old_key])
        result = app.test_cli_runner().invoke(args=["payments", "rotate-payee-key"])
        assert result.exit_code == 0, result.output
        assert "re-encrypted 1 payee record" in result.output
        # The old key may now be retired: the new one alone reads the record.
        monkeypatch.setitem(app.config, "PAYEE_ENCRYPTION_KEYS", [new_key])
        assert payees.payee_for_instruction(partner_id, "test").iban == "GB33BUKB20201555555555"
        token = db.session.scalars(sa.select(PayeeAccount.ciphertext)).one()
        with pytest.raises(Exception):
            Fernet(old_key).decrypt(token.encode())
        db.session.remove()
