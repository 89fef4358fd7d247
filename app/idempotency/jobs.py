"""Scheduled: forget idempotency keys past their retention window."""
from __future__ import annotations

from app.idempotency.services import purge
from app.jobs import job_context


def purge_expired() -> int:
    with job_context():
        return purge()
