"""What the SR package needs at start-up: its calendars, checked now rather than at the first SR."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.config import ConfigError
from app.srs.policy import load_calendars


def init_app(app: Flask) -> None:
    """Load the SLA calendars into app.extensions."""
    percent = app.config["SR_NEAR_BREACH_PERCENT"]
    if not 1 <= percent <= 99:
        raise ConfigError(f"SR_NEAR_BREACH_PERCENT must be between 1 and 99, got {percent}")
    app.extensions["sr_calendars"] = load_calendars(Path(app.config["SR_CALENDARS_FILE"]))
