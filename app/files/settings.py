"""The store the settings ask for: a local folder or an S3-compatible bucket (ATTACHMENTS_STORAGE)."""
from __future__ import annotations

from app.files.storage import LocalStorage, Storage


def make_storage(config: dict) -> Storage:
    if config["ATTACHMENTS_STORAGE"] == "s3":
        # boto3 is loaded only where a bucket is used: it costs every process some 25 MB.
        from app.files import s3

        return s3.from_config(config)
    return LocalStorage(config["ATTACHMENTS_DIR"])
