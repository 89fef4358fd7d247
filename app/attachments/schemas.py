import marshmallow as ma
from marshmallow import fields

from app.accounts.schemas import UserRefSchema
from app.attachments.models import AttachmentKind, AttachmentVisibility


class AttachmentSchema(ma.Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    kind = fields.Enum(AttachmentKind, by_value=True)
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.Nested(UserRefSchema)
    uploaded_at = fields.DateTime()
    scanned_at = fields.DateTime(allow_none=True)
    visibility = fields.Enum(AttachmentVisibility, by_value=True, metadata={
        "description": "case: everyone on the case; gtac_thread: the partner and GTAC only, never the customer"})
    findings = fields.Dict(allow_none=True, metadata={
        "description": "what the log scan found: software versions, crash signatures, error lines"})
