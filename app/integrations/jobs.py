"""Scheduled: integration callbacks whose retry is due."""
from __future__ import annotations

from app.integrations import callbacks
from app.jobs import job_context


def retry_callbacks() -> int:
    with job_context():
        return callbacks.deliver_due()
