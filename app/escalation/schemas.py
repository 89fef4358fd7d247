import marshmallow as ma
from marshmallow import fields, validate


class EscalationRequestSchema(ma.Schema):
    note = fields.String(validate=validate.Length(max=5000),
                         metadata={"description": "a note for GTAC, added to the SR"})


class ServiceRequestSchema(ma.Schema):
    id = fields.Integer()
    sr_number = fields.String(metadata={"example": "SR00000042"})
    case_id = fields.Integer()
    status = fields.String()
    severity = fields.String()
    queue = fields.String()
    product_family = fields.String()
    region = fields.String(allow_none=True)
    created_at = fields.String()
    response_due_at = fields.String()
    update_due_at = fields.String()
