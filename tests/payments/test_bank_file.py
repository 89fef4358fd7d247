"""The pain.001.001.09 adapter: files valid against the official XSD, with correct control sums."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
from lxml import etree

from app.payments.models import PayoutStatus
from tests.payments.conftest import ledger_violations

XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


@pytest.fixture
def bank_file_provider(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "PAYMENTS_PROVIDER", "pain001")
    monkeypatch.setitem(app.config, "PAYMENTS_BANK_FILE_DIR", str(tmp_path / "bank"))
    monkeypatch.setitem(app.config, "PAYMENTS_SECOND_APPROVAL_ABOVE", 10**12)


def _write(app):
    result = app.test_cli_runner().invoke(args=["payments", "bank-file"])
    assert result.exit_code == 0, result.output
    return result.output


def test_approved_payouts_go_into_one_valid_file_with_control_sums(payments, app, bank_file_provider, tmp_path):
    amounts = [123_456, 1, 99_999_99]
    claim_ids = [payments.claim(amount=a) for a in amounts]
    for claim_id in claim_ids:
        assert payments.approve(claim_id).status_code == 200
        assert payments.payout_of(claim_id)["status"] == "in_transit"
    output = _write(app)
    files = list((tmp_path / "bank").glob("*.xml"))
    assert len(files) == 1 and "3 transfer(s)" in output
    document = etree.parse(str(files[0]))
    etree.XMLSchema(etree.parse(str(XSD))).assertValid(document)
    header = document.find(".//p:GrpHdr", NS)
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "3"
    assert Decimal(header.findtext("p:CtrlSum", namespaces=NS)) == Decimal(sum(amounts)) / 100
    instructed = [Decimal(a.text) for a in document.iterfind(".//p:InstdAmt", NS)]
    assert sorted(instructed) == sorted(Decimal(a) / 100 for a in amounts)
    assert {a.get("Ccy") for a in document.iterfind(".//p:InstdAmt", NS)} == {"USD"}
    end_to_end = sorted(e.text for e in document.iterfind(".//p:EndToEndId", NS))
    assert end_to_end == sorted(payments.payout_of(c)["reference"] for c in claim_ids)
    ibans = {e.text for e in document.iterfind(".//p:CdtrAcct//p:IBAN", NS)}
    assert ibans == {"GB33BUKB20201555555555"}
    # A second run finds nothing new: no payout goes into two files.
    assert "no payouts waiting" in _write(app)


def test_bank_outcome_settles_the_ledger(payments, app, bank_file_provider):
    claim_id = payments.claim(amount=5_000)
    payments.approve(claim_id)
    _write(app)
    reference = payments.payout_of(claim_id)["reference"]
    result = app.test_cli_runner().invoke(args=["payments", "confirm", reference, "paid"])
    assert result.exit_code == 0 and "paid" in result.output
    assert payments.get_claim(claim_id)["status"] == "paid"
    assert ledger_violations(app) == []


def test_an_aba_payee_cannot_be_paid_by_iban_file(payments, client, tokens, app, bank_file_provider):
    client.put("/api/v1/payee", json={"kind": "aba", "holder_name": "Northwind Inc",
                                      "account_number": "000123456789", "routing_number": "011000015"},
               headers=tokens["admin"])
    claim_id = payments.claim(amount=5_000)
    payments.approve(claim_id)
    payout = payments.payout_of(claim_id)
    assert payout["status"] == PayoutStatus.FAILED.value
    assert "IBAN" in payout["failure_reason"]
