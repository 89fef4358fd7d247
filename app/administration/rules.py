"""What the administration's use cases check in every value they are given, whichever door it came in by."""
from __future__ import annotations

import enum
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.exc import IntegrityError

from app.accounts.models import PartnerTier
from app.errors import Conflict, InvalidInput



class Region(str, enum.Enum):
    """The regions GTAC's follow-the-sun routing knows (app/escalation/routing.yaml)."""

    AMER = "AMER"
    APAC = "APAC"
    EMEA = "EMEA"


REGIONS = tuple(region.value for region in Region)
NAME_LENGTH = 200


def refuse(field: str, message: str):
    return InvalidInput(message, details={"fields": {field: [message]}})


def text(field: str, value, longest: int, what: str) -> str:
    """The value without surrounding spaces; refused when empty or longer than `longest`."""
    value = value.strip() if isinstance(value, str) else value
    if not isinstance(value, str) or not value:
        raise refuse(field, f"Give {what}.")
    if len(value) > longest:
        raise refuse(field, f"{what.capitalize()} has at most {longest} characters.")
    if any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in value):
        raise refuse(field, f"{what.capitalize()} is one line, without control characters.")
    return value


def organisation_name(value) -> str:
    return text("name", value, NAME_LENGTH, "a name")


def tier(value) -> PartnerTier:
    try:
        return PartnerTier(value)
    except ValueError:
        raise refuse("tier", f"The tier is one of {', '.join(t.value for t in PartnerTier)}.") from None


def region(value) -> str:
    region = value.value if isinstance(value, Region) else value
    region = region.strip().upper() if isinstance(region, str) else region
    if region not in REGIONS:
        raise refuse("region", f"The region is one of {', '.join(REGIONS)}.")
    return region


@contextmanager
def unique(message: str, code: str) -> Iterator[None]:
    """Two admins writing the same name at once: the database's unique index refuses the second (409)."""
    try:
        yield
    except IntegrityError:
        raise Conflict(message, code=code) from None
