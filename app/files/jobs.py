"""Scheduled: abort uploads to the bucket that a stopped store or a crash left unfinished."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.files.s3 import S3Storage
from app.jobs import job_context


def abort_stale_uploads() -> int:
    with job_context():
        storage = current_app.extensions["attachment_storage"]
        if not isinstance(storage, S3Storage):
            return 0  # a local upload in flight is a temporary file, gone with its request
        hours = current_app.config["ATTACHMENTS_STALE_UPLOAD_HOURS"]
        return storage.abort_stale_uploads(timedelta(hours=hours))
