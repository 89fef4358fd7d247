"""Uploads over HTTP: multipart file parts stream straight into the store, and what a request
does not keep leaves it again, with no transaction open."""
from __future__ import annotations

import logging

from flask import Request, current_app, has_request_context, request

from app.bounds import unstorable_fields
from app.errors import InvalidInput
from app.files.storage import Incoming

log = logging.getLogger(__name__)


class StreamingUploadRequest(Request):
    """The service's request: file parts stream into the store, and a form is checked as it is read."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        # Form fields and file names reach the database as the query does (app.api_base checks that one
        # before the view): refuse what it cannot store. A body is read only when a view asks for it,
        # so that an upload's is not read before its caller is authorised.
        files = {name: [part.filename or "" for part in parts] for name, parts in self.files.lists()}
        found = unstorable_fields(self.form.to_dict(flat=False), files)
        if found:
            raise InvalidInput("The request has invalid or missing fields.", details={"fields": found})

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
