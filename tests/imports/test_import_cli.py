"""`flask import contracts|certifications FILE [--dry-run] [--skip-bad]` for the vendor's operators."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.imports.conftest import contracts_file

EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "imports" / "examples"
NEW = "PW-INITECH-2027,PW,Initech,Northwind Networks,2027-01-01,2027-12-31"


@pytest.fixture
def flask_import(app, demo):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["import", *map(str, args)])


def test_importing_the_example_twice_adds_then_changes_nothing(flask_import, rows):
    first = flask_import("contracts", EXAMPLES / "contracts.csv")
    assert first.exit_code == 0, first.output
    assert "contracts: 3 added, 0 changed, 1 unchanged, 0 refused" in first.output
    before = rows()
    second = flask_import("contracts", EXAMPLES / "contracts.csv")
    assert "contracts: 0 added, 0 changed, 4 unchanged, 0 refused" in second.output
    assert rows()["covered_serials"] == before["covered_serials"]


def test_a_dry_run_says_what_would_change_and_writes_nothing(flask_import, rows):
    before = rows()
    result = flask_import("certifications", EXAMPLES / "certifications.csv", "--dry-run")
    assert result.exit_code == 0
    assert "certifications (dry run, nothing written): 0 added, 2 changed, 0 unchanged, 0 refused" in result.output
    assert rows() == before


def test_bad_lines_are_printed_as_file_line_reason_and_nothing_is_written(flask_import, rows, tmp_path):
    path = tmp_path / "erp.csv"
    path.write_bytes(contracts_file(f"{NEW},INI-0001,X465-48T", f"{NEW},INI-0002,X9999",
                                    "X-1,GOLD,Acme Corp,Northwind Networks,2027-01-01,2027-12-31,SN-1,X465-48T"))
    before = rows()
    result = flask_import("contracts", path)
    assert result.exit_code == 1
    assert f"{path}:3: unknown product model 'X9999'\n{path}:4: unknown level 'GOLD' (PW or PWP)" in result.output
    assert "nothing written: 2 bad line(s)" in result.output
    assert rows() == before


def test_skip_bad_writes_the_good_lines(flask_import, rows, tmp_path):
    path = tmp_path / "erp.csv"
    path.write_bytes(contracts_file(f"{NEW},INI-0001,X465-48T", f"{NEW},INI-0002,X9999"))
    before = rows()
    result = flask_import("contracts", path, "--skip-bad")
    assert result.exit_code == 0
    assert f"{path}:3: unknown product model 'X9999'" in result.output
    assert "contracts: 1 added, 0 changed, 0 unchanged, 1 refused" in result.output
    assert rows()["covered_serials"] == before["covered_serials"] + 1


def test_an_unreadable_file_is_refused_with_its_reason(flask_import, rows, tmp_path):
    path = tmp_path / "lms.csv"
    path.write_bytes("email,product_family,certified_on,expires_on\nmüller@x.example,EXOS,2026-01-01,2027-01-01\n"
                     .encode("latin-1"))
    before = rows()
    result = flask_import("certifications", path)
    assert result.exit_code == 1
    assert f"{path}: the file is not UTF-8 text" in result.output
    assert rows() == before


def test_there_is_one_command_per_kind_of_file(flask_import):
    result = flask_import("--help")
    assert "contracts" in result.output and "certifications" in result.output
    assert flask_import("invoices", EXAMPLES / "contracts.csv").exit_code == 2
