"""What makes a service contract and its covered serials acceptable: one place, used by the
single-contract services and by the import alike.

Each check returns the reason a person would read, or None; the callers turn a
reason into a refusal of their own kind (a 4xx, or a refused import line).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.accounts.models import PartnerTier

NUMBER_MAX = 64
SERIAL_MAX = 64
LEVELS = tuple(tier.value for tier in PartnerTier)


@dataclass(frozen=True)
class Coverage:
    """One serial on one contract, with what the overlap rule needs of the contract."""

    contract_id: int | None
    contract_number: str
    customer_id: int
    starts_on: date
    ends_on: date


def level_problem(level: str) -> str | None:
    if level not in LEVELS:
        return f"unknown level {level!r} (PW or PWP)"
    return None


def period_problem(starts_on: date, ends_on: date) -> str | None:
    if ends_on < starts_on:
        return f"the contract ends ({ends_on.isoformat()}) before it starts ({starts_on.isoformat()})"
    return None


def text_problem(what: str, value: str, max_length: int) -> str | None:
    if not value:
        return f"{what} is empty"
    if len(value) > max_length:
        return f"{what} is longer than {max_length} characters"
    return None


def overlaps(a: Coverage, b: Coverage) -> bool:
    return a.starts_on <= b.ends_on and b.starts_on <= a.ends_on


def coverage_conflict(serial: str, wanted: Coverage, existing: list[Coverage]) -> str | None:
    """A serial may be on several contracts (renewals, upgrades) of one customer, but never on two
    contracts of different customers that are in force on the same day."""
    for other in existing:
        if other.contract_number == wanted.contract_number:
            continue
        if other.customer_id != wanted.customer_id and overlaps(wanted, other):
            return (f"serial {serial} is already on contract {other.contract_number} of another customer "
                    f"for overlapping dates ({other.starts_on.isoformat()} to {other.ends_on.isoformat()})")
    return None


def product_problem(model: str, product_ids: dict[str, int | None]) -> str | None:
    """product_ids maps each model, in lower case (a model is named in any case), to its product,
    or to None where two families share the name."""
    if model.lower() not in product_ids:
        return f"unknown product model {model!r}"
    if product_ids[model.lower()] is None:
        return f"product model {model!r} names products of more than one family"
    return None
