"""API shapes of an import: what is asked, and what was (or would be) written."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields


class ImportQuerySchema(ma.Schema):
    dry_run = fields.Boolean(load_default=False,
                             metadata={"description": "check and count what would change; write nothing"})
    skip_bad = fields.Boolean(load_default=False,
                              metadata={"description": "write the good lines even if some are bad"})


class ImportReportSchema(ma.Schema):
    kind = fields.String()
    filename = fields.String()
    dry_run = fields.Boolean()
    skip_bad = fields.Boolean()
    applied = fields.Boolean(metadata={"description": "the changes were written"})
    added = fields.Integer()
    changed = fields.Integer()
    unchanged = fields.Integer()
    refused = fields.Integer(metadata={"description": "bad lines, all of them"})
    errors = fields.List(fields.String(), metadata={
        "description": "each bad line as `file:line: reason` (the first 1000)"})
    errors_truncated = fields.Boolean(metadata={"description": "more lines were refused than errors lists"})
