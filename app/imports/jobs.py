"""Scheduled: start again the imports whose worker stopped, or fail them once tried enough."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.imports.services import take_over_stalled
from app.jobs import job_context


def take_over_stalled_imports() -> dict[str, int]:
    with job_context():
        config = current_app.config
        return take_over_stalled(timedelta(seconds=config["IMPORT_STALLED_AFTER"]), config["IMPORT_MAX_ATTEMPTS"])
