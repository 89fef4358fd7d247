"""The vendor's numbers of the checklist items (SPEC §4.2), the one place every page and message takes them from.

The vendor numbers its list 1 to 11; a definition splits some of its points into
several items (scope into what, when and how; the RMA into serial, failure and
ship-to), and each of those keeps the number of its point. Numbers follow item
codes, which stay stable across versions, so a published file needs no edit.
"""
from __future__ import annotations

SPEC_NUMBERS: dict[str, int] = {
    "customer_informed": 1,
    "scope_what": 2, "scope_when": 2, "scope_how": 2,
    "logs_gathered": 3, "crash_artifacts": 3,
    "problem_isolation": 4,
    "release_notes_reviewed": 5,
    "specifications_checked": 6,
    "lab_simulation": 7,
    "problem_duplicated": 8,
    "action_plan": 9,
    "logs_analysed": 10,
    "rma_serial_number": 11, "rma_failure_description": 11, "rma_ship_to": 11,
}

# The item on which the engineer rules on triage's suggestions (SPEC §7).
RULING_ITEM = "release_notes_reviewed"


def number_of(code: str) -> int | None:
    """The vendor's number of an item, or None for an item outside the vendor's list."""
    return SPEC_NUMBERS.get(code)


def item_label(code: str) -> str:
    """How a message opens on an item: "Item 5 (release_notes_reviewed)", or its code alone when unnumbered."""
    number = number_of(code)
    return f"Item {number} ({code})" if number is not None else f"Item {code}"
