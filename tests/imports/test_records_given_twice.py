"""A record given twice in one file is a bad line, wherever the two lines are and whatever the first one
did (added, changed, left unchanged or was itself refused): otherwise the file contradicts itself and
importing it again changes the record back. Batches of two lines put the lines in different batches."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import Certification, User
from app.contracts.models import CoveredSerial
from app.extensions import db
from app.imports.file_keys import FILE_KEYS, FileKeys
from app.uow import begin
from tests.imports.conftest import contracts_file
from tests.imports.test_imports_api import NEW, certifications_file, counts, report
from tests.imports.test_users_import import users_file


@pytest.fixture(autouse=True)
def two_lines_a_batch(monkeypatch):
    monkeypatch.setattr("app.imports.reading.BATCH_LINES", 2)


def products_of(app, serial: str) -> list[int]:
    with app.app_context():
        return db.session.scalars(sa.select(CoveredSerial.product_id).filter_by(serial_number=serial)).all()


def test_a_serial_left_unchanged_then_given_again_in_a_later_batch_is_refused(app, send, rows):
    assert counts(send("contracts", contracts_file(f"{NEW},INI-0001,X465-48T"))) == (1, 0, 0, 0)
    stored = products_of(app, "INI-0001")
    before = rows()
    content = contracts_file(f"{NEW},INI-0001,X465-48T", f"{NEW},INI-0002,X465-48T",  # first batch
                             f"{NEW},INI-0003,X465-48T", f"{NEW},INI-0001,AP5020")  # second batch
    answer = send("contracts", content, "erp.csv")
    assert answer.status_code == 422
    assert report(answer)["errors"] == [
        "erp.csv:5: serial INI-0001 of contract PW-INITECH-2027 is given already on line 2"]
    assert rows() == before
    assert counts(send("contracts", content, "erp.csv", skip_bad="true")) == (2, 0, 1, 1)
    assert products_of(app, "INI-0001") == stored


def test_the_same_file_imported_twice_changes_nothing_the_second_time(app, send):
    content = contracts_file(f"{NEW},INI-0001,X465-48T", f"{NEW},INI-0002,X465-48T",
                             f"{NEW},INI-0003,X465-48T", f"{NEW},INI-0001,AP5020")
    assert counts(send("contracts", contracts_file(f"{NEW},INI-0001,X465-48T"))) == (1, 0, 0, 0)
    first = send("contracts", content, skip_bad="true")
    after_first = products_of(app, "INI-0001")
    second = send("contracts", content, skip_bad="true")
    assert counts(second) == (0, 0, 3, 1)
    assert products_of(app, "INI-0001") == after_first
    assert counts(first) == (2, 0, 1, 1)


def test_a_serial_given_again_is_refused_even_when_its_first_line_was(send):
    answer = send("contracts", contracts_file(f"{NEW},INI-0001,NO-SUCH-MODEL", f"{NEW},INI-0002,X465-48T",
                                              f"{NEW},INI-0001,X465-48T"), "erp.csv", skip_bad="true")
    assert counts(answer) == (1, 0, 0, 2)
    assert answer.get_json()["errors"][1] == \
        "erp.csv:4: serial INI-0001 of contract PW-INITECH-2027 is given already on line 2"


def test_a_user_left_unchanged_then_renamed_in_a_later_batch_is_refused(app, send):
    with app.app_context():
        name = db.session.scalars(sa.select(User.name).filter_by(email="engineer@northwind.example")).one()
    user = "engineer@northwind.example,{},Northwind Networks,partner_engineer"
    content = users_file(user.format(name), "ok@acme.example,Ok,Acme Corp,customer",
                         "ok2@acme.example,Ok Two,Acme Corp,customer", user.format("Someone Else"))
    answer = send("users", content, "directory.csv", skip_bad="true")
    assert counts(answer) == (2, 0, 1, 1)
    assert answer.get_json()["errors"] == [
        "directory.csv:5: the user engineer@northwind.example is given already on line 2"]
    assert counts(send("users", content, "directory.csv", skip_bad="true")) == (0, 0, 3, 1)
    with app.app_context():
        assert db.session.scalars(sa.select(User.name).filter_by(email="engineer@northwind.example")).one() == name


def test_a_certification_left_unchanged_then_given_other_dates_in_a_later_batch_is_refused(app, send):
    northwind = "engineer@northwind.example,EXOS,{}"
    assert counts(send("certifications", certifications_file(northwind.format("2025-06-01,2027-06-01")))) == \
        (0, 1, 0, 0)
    content = certifications_file(northwind.format("2025-06-01,2027-06-01"),
                                  "engineer@contoso.example,WING,2026-01-10,2028-01-10",
                                  "engineer@northwind.example,WING,2026-01-10,2028-01-10",
                                  northwind.format("2026-06-01,2028-06-01"))
    answer = send("certifications", content, "lms.csv", skip_bad="true")
    assert counts(answer) == (1, 1, 1, 1)  # Northwind's engineer holds WING already, without dates
    assert answer.get_json()["errors"] == [
        "lms.csv:5: the EXOS certification of engineer@northwind.example is given already on line 2"]
    assert counts(send("certifications", content, "lms.csv", skip_bad="true")) == (0, 0, 3, 1)
    with app.app_context():
        held = db.session.execute(sa.select(Certification.certified_on, Certification.expires_on).join(User)
                                  .where(User.email == "engineer@northwind.example",
                                         Certification.product_family == "EXOS")).one()
        assert [day.isoformat() for day in held] == ["2025-06-01", "2027-06-01"]


def file_keys_on(connection) -> bool:
    """Whether this connection holds the keys of a file (a temporary table lives per connection)."""
    if connection.dialect.name == "postgresql":
        return connection.scalar(sa.text(f"SELECT to_regclass('pg_temp.{FILE_KEYS}')")) is not None
    return connection.scalar(sa.text(f"SELECT count(*) FROM temp.sqlite_master WHERE name = '{FILE_KEYS}'")) > 0


def test_the_keys_of_a_file_are_gone_once_its_import_commits_or_rolls_back(app):
    with app.app_context(), db.engine.connect() as connection:
        session = Session(bind=connection)  # one connection throughout, as the pool may hand it on
        for end in ("commit", "rollback"):
            uow = begin(session)
            keys = FileKeys(uow, parts=2)
            assert keys.given_before([(2, ("A", "1")), (3, ("A", "2"))]) == {}
            assert keys.given_before([(4, ("A", "1")), (5, ("B", "1")), (6, ("B", "1")), (7, ("A", "1"))]) == \
                {4: 2, 6: 5, 7: 2}
            getattr(uow, end)()
            assert not file_keys_on(connection), end
            connection.rollback()
        session.close()
