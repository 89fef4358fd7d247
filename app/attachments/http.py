"""Attachments over HTTP: the request class that streams multipart file parts into storage, the upload's
OpenAPI description (the case's and the SR thread's APIs take the same body), and downloads."""
from __future__ import annotations

from typing import BinaryIO

from flask import Request, Response, current_app, send_file

from app.attachments.models import AttachmentKind

UPLOAD_DOC = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "kind"],
    "properties": {"file": {"type": "string", "format": "binary"},
                   "kind": {"type": "string", "enum": [k.value for k in AttachmentKind]}}}}}}}


class StreamingUploadRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        # Werkzeug writes each file part in small chunks to what this returns: straight to storage.
        return current_app.extensions["attachment_storage"].new_upload()


def download_response(attachment, stream: BinaryIO) -> Response:
    """The file itself, always as a download with its own name: never rendered in the page's origin,
    never sniffed into another type, and kept out of shared caches."""
    response = send_file(stream, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, etag=attachment.sha256, conditional=True,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True
    return response
