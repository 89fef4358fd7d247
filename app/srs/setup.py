"""What the SR package needs at start-up: its calendars (checked now, not at the first SR) and its broker."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.config import ConfigError
from app.srs import opening  # noqa: F401  (every new SR starts its clocks and its timeline)
from app.srs.broker import make_broker
from app.srs.policy import load_calendars


def init_app(app: Flask) -> None:
    """Load the SLA calendars and the live-event broker into app.extensions."""
    percent = app.config["SR_NEAR_BREACH_PERCENT"]
    if not 1 <= percent <= 99:
        raise ConfigError(f"SR_NEAR_BREACH_PERCENT must be between 1 and 99, got {percent}")
    app.extensions["sr_calendars"] = load_calendars(Path(app.config["SR_CALENDARS_FILE"]))
    app.extensions["sr_broker"] = make_broker(app.config["REDIS_URL"])
