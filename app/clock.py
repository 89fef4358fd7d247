"""The one source of 'now'. Tests swap the application's clock for a fixed one."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app, has_app_context


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs) -> None:
        self.at += timedelta(**kwargs)


_system = SystemClock()


def now() -> datetime:
    """Current UTC time from the application's clock."""
    if has_app_context():
        return current_app.extensions.get("clock", _system).now()
    return _system.now()
