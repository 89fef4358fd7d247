"""Percentages as people type them, in exact basis points: tiers' thresholds and rebate rates."""
from __future__ import annotations

import re

_NUMBER = re.compile(r"(-?)([0-9]*)(?:\.([0-9]*))?\Z")


def parse_bp(text: str, most_bp: int) -> int | None:
    """"80", "92.5", "2.25 %" -> 8000, 9250, 225; None when blank; ValueError with a person's reason.
    Read as digit strings: a float would take "80.000000000000000000001" for an exact 80 %."""
    text = text.strip()
    if not text:
        return None
    match = _NUMBER.match(text.removesuffix("%").rstrip())
    if match is None or not (match[2] or match[3]):
        raise ValueError("A percentage such as 80 or 92.5.")
    if match[1]:
        raise ValueError("Not below 0 %.")
    whole, fraction = match[2].lstrip("0") or "0", (match[3] or "").rstrip("0")
    if len(fraction) > 2:
        raise ValueError("At most two decimals: 0.01 % is the smallest step.")
    # Refused by length first: int() of thousands of digits is slow, then refused by Python itself.
    bp = int(whole) * 100 + int(fraction.ljust(2, "0")) if len(whole) <= len(str(most_bp)) else most_bp + 1
    if bp > most_bp:
        raise ValueError(f"At most {format_bp(most_bp)} %.")
    return bp


def format_bp(bp: int) -> str:
    """8000 -> "80", 9250 -> "92.5", 225 -> "2.25"."""
    whole, hundredths = divmod(bp, 100)
    return f"{whole}.{hundredths:02d}".rstrip("0").rstrip(".")
