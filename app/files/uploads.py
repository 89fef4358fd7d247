"""Uploads over HTTP: multipart file parts stream straight into the store, and what a request
does not keep leaves it again, with no transaction open."""
from __future__ import annotations

import logging

from flask import Request, current_app, has_request_context, request

from app.files.storage import Incoming

log = logging.getLogger(__name__)


class StreamingUploadRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        # Werkzeug writes each file part in small chunks to what this returns: straight to storage.
        upload = current_app.extensions["attachment_storage"].new_upload()
        self.__dict__.setdefault("incoming_uploads", []).append(upload)
        return upload


def release_uploads() -> None:
    """Discard every upload of this request that was not kept (a second file part, a refused or
    failed upload): its bytes leave the storage now, with no transaction open. (Closing the request
    would discard them too, but at teardown, after the error page has read the database.)"""
    if not has_request_context():
        return
    storage = current_app.extensions["attachment_storage"]
    for upload in request.__dict__.get("incoming_uploads", []):
        if isinstance(upload, Incoming) and upload.state == "receiving":
            storage.discard(upload)


def forget(key: str) -> None:
    """Remove kept bytes whose row was never written; a store that fails now leaves an orphan, logged."""
    try:
        current_app.extensions["attachment_storage"].delete(key)
    except Exception:
        log.exception("files: could not remove %s after a failed upload", key)
