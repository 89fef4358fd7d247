"""/api/v1/cases/{id}/attachments: streamed upload, listing and download."""
from __future__ import annotations

from flask import request

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.attachments import services
from app.attachments.http import DOWNLOAD_DOC, UPLOAD_DOC, download_response
from app.attachments.schemas import AttachmentSchema

blp = Blueprint("attachments", __name__, url_prefix="/api/v1/cases", description="Case attachments")


@blp.route("/<int:case_id>/attachments", methods=["POST"], endpoint="upload")
@blp.operation("upload_case_attachment", refuses=(403, 422))
@blp.response(201, AttachmentSchema)
@blp.doc(**UPLOAD_DOC)
def upload(case_id):
    """Upload one file (multipart field `file`, form field `kind`); streamed, size-limited, hashed."""
    return services.upload(api_user(), case_id,
                           lambda: (request.form.get("kind"), request.files.get("file")))


@blp.route("/<int:case_id>/attachments", methods=["GET"], endpoint="list")
@blp.operation("list_case_attachments")
@blp.response(200, AttachmentSchema(many=True))
def list_attachments(case_id):
    """The case's attachments, oldest first."""
    return services.list_attachments(api_user(), case_id)


@blp.route("/<int:case_id>/attachments/<int:attachment_id>", methods=["GET"], endpoint="get")
@blp.operation("get_case_attachment")
@blp.response(200, AttachmentSchema)
def get_attachment(case_id, attachment_id):
    """One attachment's metadata and scan findings."""
    return services.get_attachment(api_user(), case_id, attachment_id)


@blp.route("/<int:case_id>/attachments/<int:attachment_id>/content", methods=["GET"], endpoint="content")
@blp.operation("download_case_attachment")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/octet-stream")
@blp.doc(**DOWNLOAD_DOC)
def download(case_id, attachment_id):
    """The file itself, with its content type and a download file name."""
    return download_response(services.get_attachment(api_user(), case_id, attachment_id))
