"""Attachments over HTTP: the upload's OpenAPI description (the case's and the SR thread's APIs take
the same body), and downloads."""
from __future__ import annotations

from flask import Response, current_app, redirect, send_file

from app.api_spec import component, file_upload
from app.attachments.models import AttachmentKind

UPLOAD_DOC = file_upload("the file, up to MAX_UPLOAD_BYTES", kind=component(AttachmentKind.__name__))
# A download answers the file (200), or where a bucket serves it, a redirect to it; a client that
# sends the ETag it has back in If-None-Match is told that it has not changed.
DOWNLOAD_DOC = {"responses": {
    "303": {"description": "the file at a short-lived signed address of the bucket (S3_DOWNLOADS=redirect)"},
    "304": {"description": "not modified since the ETag sent in If-None-Match"}}}


def download_response(attachment) -> Response:
    """The file itself, always as a download with its own name: never rendered in the page's origin,
    never sniffed into another type, and kept out of shared caches. The caller has authorised it;
    a bucket may answer it instead, through a short-lived signed address (S3_DOWNLOADS=redirect)."""
    storage = current_app.extensions["attachment_storage"]
    url = storage.download_url(attachment.storage_key, attachment.filename, attachment.content_type)
    if url is not None:
        response = redirect(url, 303)
        response.cache_control.private = True
        response.cache_control.no_store = True
        return response
    stream = storage.open(attachment.storage_key)
    response = send_file(stream, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, etag=attachment.sha256, conditional=True,
                         max_age=0)
    size = getattr(stream, "size", None)
    if size is not None and response.status_code == 200 and response.content_length is None:
        response.content_length = size
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True
    return response
