"""What the web pages share about uploads: the kinds in people's words, sizes, and reading the form.

The case page and the SR page both take files through the same streaming path
(app/attachments/services.upload); this is the form side of it.
"""
from __future__ import annotations

from flask import request
from flask_wtf.csrf import CSRFError

from app.attachments.models import AttachmentKind
from app.errors import InvalidInput
from app.extensions import csrf

# What each kind of attachment is, in the words of the people who collect them.
ATTACHMENT_KINDS = {
    AttachmentKind.ERROR_LOG.value: "Error log (show log, syslog)",
    AttachmentKind.CORE_FILE.value: "Core file",
    AttachmentKind.SUPPORT_BUNDLE.value: "Support bundle",
    AttachmentKind.CAPTURE.value: "Packet capture",
    AttachmentKind.OTHER.value: "Other",
}


def human_size(count: int) -> str:
    """A byte count as people read it: 512 B, 3.4 KiB, 2.0 GiB."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def read_upload_form():
    """The upload's kind and file. The upload service calls this only once the caller is
    authorised, so the body (and its CSRF token) is read no sooner: the upload views are
    exempt from the global CSRF hook, which would read the whole body first."""
    try:
        csrf.protect()  # the same checks as every other form's, made later
    except CSRFError as exc:
        raise InvalidInput(f"{exc.description} Reload the page and send the file again.",
                           code="csrf_invalid") from None
    kind, file = request.form.get("kind"), request.files.get("file")
    if file is None or not file.filename:
        raise InvalidInput("Choose a file to upload.", code="file_missing")
    if kind not in ATTACHMENT_KINDS:
        raise InvalidInput("Choose what kind of file this is.", code="invalid_kind")
    return kind, file
