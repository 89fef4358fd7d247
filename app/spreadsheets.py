"""CSV cells a spreadsheet opens as text: what people or outside systems typed (a name, a reason)
must not run as a formula in the books of whoever exports it."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value) -> str:
    """The value as a cell's text; one starting like a formula is quoted with a leading apostrophe."""
    text = str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text
