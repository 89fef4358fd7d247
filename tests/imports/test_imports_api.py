"""POST /api/v1/imports/{kind}: what a vendor's ERP and training system exports comes in whole or
not at all, line by line reasons for what is refused, and the same file twice changes nothing."""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Certification, Organisation, User
from app.contracts.models import CoveredSerial, ServiceContract
from app.extensions import db
from tests.imports.conftest import HEADER, contracts_file

EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "imports" / "examples"
NEW = "PW-INITECH-2027,PW,Initech,Northwind Networks,2027-01-01,2027-12-31"


def report(answer) -> dict:
    body = answer.get_json()
    return body["error"]["details"] if "error" in body else body


def counts(answer) -> tuple[int, int, int, int]:
    body = report(answer)
    return body["added"], body["changed"], body["unchanged"], body["refused"]


def test_the_example_contracts_file_is_imported_then_changes_nothing_the_second_time(app, send, rows):
    content = (EXAMPLES / "contracts.csv").read_bytes()
    first = send("contracts", content, "contracts.csv")
    assert first.status_code == 200, first.get_json()
    # ACME-0001 is on the demo contract already; the other three lines are new.
    assert counts(first) == (3, 0, 1, 0) and first.get_json()["applied"] is True
    after_first = rows()
    second = send("contracts", content, "contracts.csv")
    assert second.status_code == 200
    assert counts(second) == (0, 0, 4, 0)
    assert rows() == {**after_first, "audit_events": after_first["audit_events"] + 1}
    with app.app_context():
        initech = db.session.scalars(sa.select(Organisation).filter_by(name="Initech")).one()
        assert initech.partner.name == "Northwind Networks"
        contract = db.session.scalars(sa.select(ServiceContract).filter_by(number="PW-INITECH-2027")).one()
        assert (contract.customer_id, contract.level.value, contract.ends_on) == \
            (initech.id, "PW", date(2027, 12, 31))
        assert sorted((s.serial_number, s.product.model) for s in contract.serials) == \
            [("INI-0001", "VSP4900-48P"), ("INI-0002", "AP5020")]


def test_a_later_export_updates_contracts_and_serials_in_place(app, send, rows):
    send("contracts", contracts_file(f"{NEW},INI-0001,VSP4900-48P", f"{NEW},INI-0002,AP5020"))
    before = rows()
    renewed = "PW-INITECH-2027,PWP,Initech,Northwind Networks,2027-01-01,2028-06-30"
    answer = send("contracts", contracts_file(f"{renewed},INI-0001,VSP4900-48P", f"{renewed},INI-0002,X465-48T"))
    assert counts(answer) == (0, 2, 0, 0)
    assert rows() == {**before, "audit_events": before["audit_events"] + 1}
    with app.app_context():
        contract = db.session.scalars(sa.select(ServiceContract).filter_by(number="PW-INITECH-2027")).one()
        assert (contract.level.value, contract.ends_on) == ("PWP", date(2028, 6, 30))
        assert {s.serial_number: s.product.model for s in contract.serials} == \
            {"INI-0001": "VSP4900-48P", "INI-0002": "X465-48T"}


def test_a_dry_run_counts_what_would_change_and_writes_nothing(send, rows):
    before = rows()
    answer = send("contracts", (EXAMPLES / "contracts.csv").read_bytes(), dry_run="true")
    assert answer.status_code == 200
    assert counts(answer) == (3, 0, 1, 0) and answer.get_json()["applied"] is False
    assert rows() == before


BAD_LINES = {
    "unknown level": ("X-1,GOLD,Acme Corp,Northwind Networks,2027-01-01,2027-12-31,SN-1,X465-48T",
                      "unknown level 'GOLD' (PW or PWP)"),
    "end before start": ("X-2,PW,Acme Corp,Northwind Networks,2027-12-31,2027-01-01,SN-2,X465-48T",
                         "the contract ends (2027-01-01) before it starts (2027-12-31)"),
    "not a date": ("X-3,PW,Acme Corp,Northwind Networks,01/02/2027,2027-12-31,SN-3,X465-48T",
                   "starts_on '01/02/2027' is not an ISO date (YYYY-MM-DD)"),
    "unknown product model": ("X-4,PW,Acme Corp,Northwind Networks,2027-01-01,2027-12-31,SN-4,X9999",
                              "unknown product model 'X9999'"),
    "serial of another customer's active contract": (
        "X-5,PW,Initech,Northwind Networks,2027-01-01,2027-12-31,FAB-0001,X465-48T",
        "serial FAB-0001 is already on contract PW-FAB-2026 of another customer for overlapping dates "
        "(2026-01-01 to 2030-12-31)"),
    "unknown partner for a new customer": (
        "X-6,PW,Initech,Nobody Ltd,2027-01-01,2027-12-31,SN-6,X465-48T",
        "contract X-6: unknown partner 'Nobody Ltd' (a new customer is created under a known partner)"),
    "customer of another partner": (
        "X-7,PW,Fabrikam Ltd,Northwind Networks,2027-01-01,2027-12-31,SN-7,X465-48T",
        "contract X-7: customer 'Fabrikam Ltd' is not served by partner 'Northwind Networks'"),
    "a partner named as the customer": (
        "X-8,PW,Contoso Integrators,Northwind Networks,2027-01-01,2027-12-31,SN-8,X465-48T",
        "contract X-8: 'Contoso Integrators' is not a customer organisation"),
    "a missing field": ("X-9,PW,Acme Corp,Northwind Networks,2027-01-01,2027-12-31,SN-9",
                        "7 field(s) where the header has 8"),
    "an empty serial": ("X-10,PW,Acme Corp,Northwind Networks,2027-01-01,2027-12-31,,X465-48T",
                        "serial_number is empty"),
}


@pytest.mark.parametrize("case", BAD_LINES)
def test_one_bad_line_refuses_the_whole_file_with_its_reason(send, rows, case):
    line, reason = BAD_LINES[case]
    before = rows()
    answer = send("contracts", contracts_file(f"{NEW},INI-0001,VSP4900-48P", line), "erp.csv")
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["code"] == "import_refused"
    assert report(answer)["errors"] == [f"erp.csv:3: {reason}"]
    assert counts(answer) == (1, 0, 0, 1)
    assert rows() == before


def test_every_bad_line_is_reported_in_file_order(send, rows):
    lines = [line for line, _ in BAD_LINES.values()]
    before = rows()
    answer = send("contracts", contracts_file(*lines), "erp.csv")
    assert answer.status_code == 422
    assert report(answer)["errors"] == [f"erp.csv:{n}: {reason}" for n, (_, reason) in
                                        enumerate(BAD_LINES.values(), start=2)]
    assert rows() == before


def test_skip_bad_writes_the_good_lines_and_reports_the_rest(app, send):
    bad, reason = BAD_LINES["unknown product model"]
    answer = send("contracts", contracts_file(f"{NEW},INI-0001,VSP4900-48P", bad, f"{NEW},INI-0002,AP5020"),
                  "erp.csv", skip_bad="true")
    assert answer.status_code == 200
    assert counts(answer) == (2, 0, 0, 1)
    assert answer.get_json()["errors"] == [f"erp.csv:3: {reason}"]
    with app.app_context():
        serials = set(db.session.scalars(sa.select(CoveredSerial.serial_number)))
        assert {"INI-0001", "INI-0002"} <= serials and "SN-4" not in serials
        assert not db.session.scalar(sa.select(ServiceContract.id).filter_by(number="X-4"))


def test_two_lines_of_one_file_may_not_put_a_serial_on_two_customers(send, rows):
    globex = "G-2027,PW,Globex,Northwind Networks,2027-06-01,2028-05-31"
    before = rows()
    answer = send("contracts", contracts_file(f"{NEW},SHARED-1,X465-48T", f"{globex},SHARED-1,X465-48T"), "erp.csv")
    assert answer.status_code == 422
    assert report(answer)["errors"] == [
        "erp.csv:3: serial SHARED-1 is already on contract PW-INITECH-2027 of another customer for overlapping "
        "dates (2027-01-01 to 2027-12-31)"]
    assert rows() == before


def test_a_contract_given_other_terms_on_a_later_line_is_refused(send):
    other = "PW-INITECH-2027,PWP,Initech,Northwind Networks,2027-01-01,2027-12-31"
    answer = send("contracts", contracts_file(f"{NEW},INI-0001,X465-48T", f"{other},INI-0002,X465-48T"), "erp.csv")
    assert report(answer)["errors"] == [
        "erp.csv:3: contract PW-INITECH-2027 is given other terms on line 2 (level, customer, partner and dates "
        "must be the same on each of its lines)"]


def test_a_serial_given_twice_for_one_contract_is_refused(send):
    answer = send("contracts", contracts_file(f"{NEW},INI-0001,X465-48T", f"{NEW},INI-0001,AP5020"), "erp.csv")
    assert report(answer)["errors"] == ["erp.csv:3: serial INI-0001 of contract PW-INITECH-2027 is given already on line 2"]


BAD_FILES = {
    "an extra column": ((HEADER.strip() + ",region\n").encode(), 400, "import_file_refused", "unknown column(s) region"),
    "a missing column": (b"contract_number,level,customer\n", 400, "import_file_refused",
                         "missing column(s) partner, starts_on"),
    "a trailing comma": ((HEADER.strip() + ",\n").encode(), 400, "import_file_refused",
                         "unknown column(s) (one with no name)"),
    "a column twice": ((HEADER.strip() + ",level\n").encode(), 400, "import_file_refused",
                       "column(s) given twice: level"),
    "an empty file": (b"", 400, "import_file_empty", "the file is empty (0 bytes)"),
    "Latin-1 text": (contracts_file(f"{NEW},INI-0001,X465-48T").replace(b"Initech", "Müller".encode("latin-1")),
                     400, "import_file_not_utf8", "not UTF-8"),
    "an unclosed quote": (contracts_file(f'{NEW},"INI-0001,X465-48T'), 400, "import_file_refused", "malformed CSV"),
    "semicolons": (b"contract_number;level;customer;partner;starts_on;ends_on;serial_number;product_model\n",
                   400, "import_file_refused", "unknown column(s)"),
    # Parsed, its fields would take ten times its size before their count is checked.
    "a line of a million commas": (HEADER.encode() + b"," * 1_000_000 + b"\n", 400, "import_file_refused",
                                   "erp.csv:2: the line is longer than 65562 characters"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_file_that_cannot_be_read_is_refused_whole_and_changes_nothing(send, rows, case):
    content, status, code, words = BAD_FILES[case]
    before = rows()
    answer = send("contracts", content, "erp.csv")
    assert answer.status_code == status, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == code and words in error["message"] and error["message"].startswith("erp.csv")
    assert rows() == before


def test_a_utf8_file_with_a_byte_order_mark_is_read(send):
    answer = send("contracts", b"\xef\xbb\xbf" + contracts_file(f"{NEW},INI-0001,X465-48T"))
    assert counts(answer) == (1, 0, 0, 0)


def test_a_file_over_the_import_limit_is_refused_with_413(app, send, rows):
    app.config["IMPORT_MAX_BYTES"] = 10_000
    try:
        before = rows()
        answer = send("contracts", contracts_file(*[f"{NEW},INI-{n:05d},X465-48T" for n in range(400)]))
        assert answer.status_code == 413
        assert answer.get_json()["error"]["code"] == "payload_too_large"
        assert rows() == before
    finally:
        app.config["IMPORT_MAX_BYTES"] = 100 * 1024**2


class Endless(io.RawIOBase):
    """A 200 MB request body made up as it is read, counting what the server reads of it."""

    SIZE = 200 * 1024**2

    def __init__(self):
        self.position = self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.SIZE + offset if whence == 2 else offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        size = max(0, min(len(buffer), 64 * 1024, self.SIZE - self.position))
        buffer[:size] = b"x" * size
        self.position += size
        self.read_bytes += size
        return size


def test_a_200_mb_upload_is_refused_before_it_is_read(client, vendor_admin, rows):
    body, before = Endless(), rows()
    answer = client.post("/api/v1/imports/contracts", headers=vendor_admin, input_stream=body,
                         content_type="multipart/form-data; boundary=b")
    assert answer.status_code == 413
    assert body.read_bytes < 1024**2
    assert rows() == before


def test_a_request_without_the_file_part_is_400(client, vendor_admin):
    answer = client.post("/api/v1/imports/contracts", headers=vendor_admin, data={"other": "x"},
                         content_type="multipart/form-data")
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "file_missing"


def test_an_unknown_kind_of_import_is_404(send):
    answer = send("invoices", contracts_file())
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "import_kind_not_found"


# --- certifications -----------------------------------------------------------------------

CERT_HEADER = "email,product_family,certified_on,expires_on\n"


def certifications_file(*lines: str) -> bytes:
    return (CERT_HEADER + "".join(line + "\n" for line in lines)).encode()


def test_certifications_are_keyed_by_email_and_family(app, send, rows):
    content = (EXAMPLES / "certifications.csv").read_bytes()
    first = send("certifications", content)
    # Both engineers hold these certifications already (seeded without a date): their dates change.
    assert counts(first) == (0, 2, 0, 0)
    before = rows()
    assert counts(send("certifications", content)) == (0, 0, 2, 0)
    assert rows() == {**before, "audit_events": before["audit_events"] + 1}
    added = send("certifications", certifications_file("engineer@contoso.example,WING,2026-01-10,2028-01-10"))
    assert counts(added) == (1, 0, 0, 0)
    with app.app_context():
        carl = db.session.scalars(sa.select(User).filter_by(email="engineer@contoso.example")).one()
        held = {c.product_family: (c.certified_on, c.expires_on) for c in
                db.session.scalars(sa.select(Certification).filter_by(user_id=carl.id))}
        assert held["VOSS"] == (date(2026, 11, 20), date(2028, 11, 20))
        assert held["WING"] == (date(2026, 1, 10), date(2028, 1, 10))


CERT_BAD_LINES = {
    "unknown e-mail": ("nobody@nowhere.example,EXOS,2026-01-01,2028-01-01", "no user has the e-mail nobody@nowhere.example"),
    "unknown family": ("engineer@northwind.example,JUNOS,2026-01-01,2028-01-01", "unknown product family 'JUNOS'"),
    "expires before obtained": ("engineer@northwind.example,EXOS,2026-01-01,2025-01-01",
                                "it expires (2025-01-01) before it was obtained (2026-01-01)"),
    "not a partner's engineer": ("customer@acme.example,EXOS,2026-01-01,2028-01-01",
                                 "customer@acme.example is not a partner's engineer or admin (customer)"),
    "expires too far ahead": ("engineer@northwind.example,EXOS,2026-01-01,9999-12-31",
                              "expires_on 9999-12-31 is not between 1970-01-01 and 8999-12-31"),
    "given twice": ("engineer@northwind.example,WING,2026-01-01,2028-01-01",
                    "the WING certification of engineer@northwind.example is given already on line 2"),
}


@pytest.mark.parametrize("case", CERT_BAD_LINES)
def test_a_bad_certification_line_refuses_the_file(send, rows, case):
    line, reason = CERT_BAD_LINES[case]
    before = rows()
    answer = send("certifications",
                  certifications_file("engineer@northwind.example,WING,2026-02-01,2028-02-01", line), "lms.csv")
    assert answer.status_code == 422
    assert report(answer)["errors"] == [f"lms.csv:3: {reason}"]
    assert rows() == before


def test_two_new_customers_may_not_share_a_serial_in_one_file(app, send, rows):
    other = "PW-HOOLI-2027,PW,Hooli,Contoso Integrators,2027-01-01,2027-12-31"
    before = rows()
    answer = send("contracts", contracts_file(f"{NEW},SHARED-1,X465-48T", f"{other},SHARED-1,X465-48T"), "erp.csv")
    assert report(answer)["errors"] == [
        "erp.csv:3: serial SHARED-1 is already on contract PW-INITECH-2027 of another customer for overlapping "
        "dates (2027-01-01 to 2027-12-31)"]
    assert rows() == before


def test_a_new_customer_is_created_once_under_one_partner(app, send):
    renewal = "PW-INITECH-2028,PW,Initech,Northwind Networks,2028-01-01,2028-12-31"
    elsewhere = "PW-INITECH-X,PW,Initech,Contoso Integrators,2028-01-01,2028-12-31"
    answer = send("contracts", contracts_file(f"{NEW},INI-1,X465-48T", f"{renewal},INI-1,X465-48T",
                                              f"{elsewhere},INI-2,X465-48T"), "erp.csv", skip_bad="true")
    assert counts(answer) == (2, 0, 0, 1)
    assert answer.get_json()["errors"] == [
        "erp.csv:4: contract PW-INITECH-X: new customer 'Initech' is given partner 'Northwind Networks' on another line"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).filter_by(name="Initech")) == 1


def test_a_record_given_twice_is_refused_in_a_later_batch_too(app, send, rows, monkeypatch):
    monkeypatch.setattr("app.imports.reading.BATCH_LINES", 2)
    acme = "PWP-ACME-2026,PWP,Acme Corp,Northwind Networks,2026-01-01,2030-12-31"
    answer = send("contracts", contracts_file(
        f"{NEW},INI-0001,X465-48T", f"{acme},ACME-0001,AP5020",  # first batch: one added, one changed
        f"{NEW},INI-0002,X465-48T", f"{NEW},INI-0001,AP5020",  # second batch
        f"{acme},ACME-0001,X465-48T"), "erp.csv", skip_bad="true")
    assert counts(answer) == (2, 1, 0, 2)
    assert answer.get_json()["errors"] == [
        "erp.csv:5: serial INI-0001 of contract PW-INITECH-2027 is given already on line 2",
        "erp.csv:6: serial ACME-0001 of contract PWP-ACME-2026 is given already on line 3"]
    certifications = send("certifications", certifications_file(
        "engineer@northwind.example,WING,2026-02-01,2028-02-01", "engineer@northwind.example,EXOS,2026-02-01,2028-02-01",
        "engineer@contoso.example,WING,2026-02-01,2028-02-01", "engineer@northwind.example,WING,2026-03-01,2028-03-01",
        "engineer@northwind.example,EXOS,2026-02-01,2028-02-01"), "lms.csv", skip_bad="true")
    assert counts(certifications) == (1, 2, 0, 2)  # Northwind's engineer holds WING and EXOS already
    assert certifications.get_json()["errors"] == [
        "lms.csv:5: the WING certification of engineer@northwind.example is given already on line 2",
        "lms.csv:6: the EXOS certification of engineer@northwind.example is given already on line 3"]


def test_records_written_by_someone_else_meanwhile_are_a_409_and_nothing_is_written(send, rows, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from app.imports.contracts import ContractLines

    taken = ContractLines.take

    def collide(self, lines):
        taken(self, lines)  # written, then the unique number is found taken at the commit's flush
        raise IntegrityError("INSERT INTO service_contracts", {}, Exception("duplicate key"))

    monkeypatch.setattr(ContractLines, "take", collide)
    before = rows()
    answer = send("contracts", contracts_file(f"{NEW},INI-0001,X465-48T"))
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (409, "import_collided")
    assert rows() == before


def test_a_file_name_with_a_nul_is_400(send, rows):
    before = rows()
    answer = send("contracts", contracts_file(f"{NEW},INI-0001,X465-48T"), "erp\x00.csv")
    assert answer.status_code == 400
    assert rows() == before


def test_models_and_families_are_named_in_any_case(app, send):
    assert counts(send("contracts", contracts_file(f"{NEW},INI-0001,x465-48t"))) == (1, 0, 0, 0)
    assert counts(send("contracts", contracts_file(f"{NEW},INI-0001,X465-48T"))) == (0, 0, 1, 0)
    cert = "engineer@contoso.example,{},2026-01-10,2028-01-10"
    assert counts(send("certifications", certifications_file(cert.format("wing")))) == (1, 0, 0, 0)
    assert counts(send("certifications", certifications_file(cert.format("WING")))) == (0, 0, 1, 0)
    with app.app_context():
        assert db.session.scalars(sa.select(Certification.product_family).join(User).where(
            User.email == "engineer@contoso.example", Certification.product_family.ilike("wing"))).all() == ["WING"]


def test_no_new_customer_is_created_under_a_suspended_partner(app, send, rows):
    from app.clock import now

    with app.app_context():
        northwind = db.session.scalars(sa.select(Organisation).filter_by(name="Northwind Networks")).one()
        northwind.suspended_at = now()
        db.session.commit()
    before = rows()
    answer = send("contracts", contracts_file(f"{NEW},INI-0001,X465-48T"), "erp.csv")
    assert report(answer)["errors"] == [
        "erp.csv:2: contract PW-INITECH-2027: partner 'Northwind Networks' is suspended: no new customer is "
        "created under it"]
    assert rows() == before
