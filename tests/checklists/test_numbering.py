"""Every published checklist item carries the vendor's number (SPEC §4.2), and messages name items by it."""
from __future__ import annotations

from pathlib import Path

from app.checklists.definitions import load_directory
from app.checklists.numbering import item_label, number_of
from app.checklists.services import CHECKLIST_NAME

CHECKLISTS = Path(__file__).resolve().parents[2] / "checklists"

# SPEC §4.2, point by point: the codes a published definition uses for each numbered point.
SPEC = {1: {"customer_informed"}, 2: {"scope_what", "scope_when", "scope_how"},
        3: {"logs_gathered", "crash_artifacts"}, 4: {"problem_isolation"}, 5: {"release_notes_reviewed"},
        6: {"specifications_checked"}, 7: {"lab_simulation"}, 8: {"problem_duplicated"}, 9: {"action_plan"},
        10: {"logs_analysed"}, 11: {"rma_serial_number", "rma_failure_description", "rma_ship_to"}}


def test_every_item_of_every_published_checklist_has_its_spec_number():
    registry = load_directory(CHECKLISTS)
    definitions = registry.versions(CHECKLIST_NAME)
    assert definitions
    for definition in definitions:
        unnumbered = [item.code for item in definition.items if number_of(item.code) is None]
        assert not unnumbered, f"{definition.source}: give these items their SPEC §4.2 number: {unnumbered}"
        numbers = [number_of(item.code) for item in definition.items]
        assert numbers == sorted(numbers), "the items follow the vendor's order"


def test_the_numbers_are_the_vendors():
    for number, codes in SPEC.items():
        assert {number_of(code) for code in codes} == {number}, number


def test_messages_name_the_item_by_number_and_code():
    assert item_label("release_notes_reviewed") == "Item 5 (release_notes_reviewed)"
    assert item_label("a_local_addition") == "Item a_local_addition"
