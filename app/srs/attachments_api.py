"""/api/v1/srs/{sr}/attachments: the case's files as GTAC reads them, and files added on the thread."""
from __future__ import annotations

from flask import request

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.attachments.http import DOWNLOAD_DOC, UPLOAD_DOC, download_response
from app.attachments.schemas import AttachmentSchema
from app.srs import attachments

blp = Blueprint("sr_attachments", __name__, url_prefix="/api/v1/srs",
                description="Files on an SR's partner<->GTAC thread")


@blp.route("/<sr_number>/attachments", methods=["POST"], endpoint="upload")
@blp.operation("upload_sr_attachment", refuses=(403, 409))
@blp.response(201, AttachmentSchema)
@blp.doc(**UPLOAD_DOC)
def upload(sr_number):
    """Add a file to the thread (multipart field `file`, form field `kind`): GTAC or the SR's partner;
    streamed and size-limited like case uploads, and never shown to the customer."""
    return attachments.upload(api_user(), sr_number,
                              lambda: (request.form.get("kind"), request.files.get("file")))


@blp.route("/<sr_number>/attachments", methods=["GET"], endpoint="list")
@blp.operation("list_sr_attachments")
@blp.response(200, AttachmentSchema(many=True))
def list_attachments(sr_number):
    """The case's files, the partner's and the thread's, oldest first."""
    return attachments.list_attachments(api_user(), sr_number)


@blp.route("/<sr_number>/attachments/<int:attachment_id>", methods=["GET"], endpoint="get")
@blp.operation("get_sr_attachment")
@blp.response(200, AttachmentSchema)
def get_attachment(sr_number, attachment_id):
    """One file's metadata and scan findings."""
    return attachments.get_attachment(api_user(), sr_number, attachment_id)


@blp.route("/<sr_number>/attachments/<int:attachment_id>/content", methods=["GET"], endpoint="content")
@blp.operation("download_sr_attachment")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/octet-stream")
@blp.doc(**DOWNLOAD_DOC)
def download(sr_number, attachment_id):
    """The file itself, always as a download."""
    return download_response(attachments.get_attachment(api_user(), sr_number, attachment_id))
