"""Template filters that pages of every feature use."""
from __future__ import annotations

from datetime import datetime, timezone


def format_when(value: datetime | None) -> str:
    """A timestamp as people read it, always in UTC so that partners and GTAC agree on times."""
    if value is None:
        return ""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
