"""Checklist files: the shipped checklist, and malformed files refused with file, line and reason."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app import create_app
from app.checklists.definitions import (CaseFacts, ChecklistDirectoryError, ChecklistFileError,
                                        load_directory, load_file)

SHIPPED = Path(__file__).resolve().parents[2] / "checklists"
V1 = SHIPPED / "partnerworks-gtac-v1.yaml"


def write(tmp_path: Path, text: str, name: str = "partnerworks-gtac-v1.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_checklist_has_every_spec_item():
    definition = load_file(V1)
    codes = {item.code for item in definition.items}
    assert {"customer_informed", "scope_what", "scope_when", "scope_how", "logs_gathered",
            "problem_isolation", "release_notes_reviewed", "specifications_checked", "lab_simulation",
            "problem_duplicated", "action_plan", "logs_analysed", "rma_serial_number",
            "rma_failure_description", "rma_ship_to", "crash_artifacts"} <= codes
    assert definition.item("release_notes_reviewed").kind == "triage_ruling"
    assert definition.item("lab_simulation").allow_not_applicable


def test_conditions_apply_rma_only_to_hardware_and_core_files_only_to_crashes():
    definition = load_file(V1)
    software = CaseFacts("EXOS", "S2", hardware_issue=False, crash=False)
    hardware_crash = CaseFacts("EXOS", "S2", hardware_issue=True, crash=True)
    rma = definition.item("rma_ship_to")
    core = definition.item("crash_artifacts")
    assert not rma.applies_to(software) and rma.applies_to(hardware_crash)
    assert not core.applies_to(software) and core.applies_to(hardware_crash)


@pytest.mark.parametrize("text, line, words", [
    ("checklist: partnerworks-gtac\nversion: 1\ntitle: x\nitems:\n  - code: a1\n    title: [unclosed\n",
     6, "not valid YAML"),
    ("checklist: partnerworks-gtac\nversion: 1\ntitle: T\nitems:\n  - code: ok_item\n    title: A\n"
     "    kind: attestation\n  - code: bad\n    title: B\n    kind: telepathy\n", 10, "telepathy"),
    ("checklist: partnerworks-gtac\nversion: 1\ntitle: T\nitems:\n  - code: words\n    title: A\n"
     "    kind: text\n", 5, "min_length"),
    ("checklist: partnerworks-gtac\nversion: 1\ntitle: T\nitems:\n  - code: dup\n    title: A\n"
     "    kind: attestation\n  - code: dup\n    title: B\n    kind: attestation\n", 8, "appears twice"),
    ("checklist: partnerworks-gtac\nversion: 1\ntitle: T\nitems:\n  - code: confirm\n    title: A\n"
     "    kind: choice\n    options: [fixed, open]\n    reason_required_for: [maybe]\n", 9, "not options"),
    ("checklist: partnerworks-gtac\nversion: 2\ntitle: T\nitems:\n  - code: confirm\n    title: A\n"
     "    kind: attestation\n", 2, "file name must be"),
    ("checklist: partnerworks-gtac\nversion: 1\ntitle: T\nsurprise: true\nitems:\n  - code: confirm\n"
     "    title: A\n    kind: attestation\n", 1, "surprise"),
])
def test_malformed_file_is_refused_with_line_and_reason(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(ChecklistFileError) as caught:
        load_file(path)
    assert caught.value.line == line, str(caught.value)
    assert words in caught.value.reason
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_start_up_refuses_a_malformed_checklist_directory(tmp_path):
    shutil.copy(V1, tmp_path / V1.name)
    write(tmp_path, "checklist: partnerworks-gtac\nversion: 2\ntitle: T\nitems: []\n",
          "partnerworks-gtac-v2.yaml")
    with pytest.raises(ChecklistDirectoryError) as caught:
        create_app({"CHECKLISTS_DIR": str(tmp_path)}, instance_path=str(tmp_path / "instance"))
    assert "partnerworks-gtac-v2.yaml:4:" in str(caught.value)
    assert load_directory(SHIPPED).get("partnerworks-gtac", 1) is not None


def test_validate_command_reports_every_bad_file_and_exits_non_zero(app, tmp_path):
    good = shutil.copy(V1, tmp_path / V1.name)
    bad = write(tmp_path, "checklist: partnerworks-gtac\nversion: 3\ntitle: T\nitems:\n  - code: X\n"
                          "    title: A\n    kind: attestation\n", "partnerworks-gtac-v3.yaml")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["checklist", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{bad}:5: items/0/code" in result.output
    ok = runner.invoke(args=["checklist", "validate", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "valid" in ok.output
