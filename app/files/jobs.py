"""Scheduled: abort uploads to the bucket that a stopped store or a crash left unfinished."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.jobs import job_context


def abort_stale_uploads() -> int:
    with job_context():
        if current_app.config["ATTACHMENTS_STORAGE"] != "s3":
            return 0  # a local upload in flight is a temporary file, gone with its request
        storage = current_app.extensions["attachment_storage"]
        hours = current_app.config["ATTACHMENTS_STALE_UPLOAD_HOURS"]
        return storage.abort_stale_uploads(timedelta(hours=hours))
