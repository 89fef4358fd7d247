"""The request class that streams multipart file parts into attachment storage."""
from __future__ import annotations

from flask import Request, current_app


class StreamingUploadRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        # Werkzeug writes each file part in small chunks to what this returns: straight to storage.
        return current_app.extensions["attachment_storage"].new_upload()
