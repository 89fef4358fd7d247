"""/api/v1/imports: a contracts or certifications file, checked and written in one request."""
from __future__ import annotations

from flask import request

from app.accounts.api_auth import api_user
from app.api_base import Blueprint
from app.api_spec import file_upload
from app.imports import services
from app.imports.services import upload_limit
from app.imports.schemas import ImportQuerySchema, ImportReportSchema

blp = Blueprint("imports", __name__, url_prefix="/api/v1/imports", description="Bulk import from CSV")


@blp.route("/<kind>", methods=["POST"], endpoint="run")
@blp.operation("import_records", refuses=(403, 409, 422))
@blp.arguments(ImportQuerySchema, location="query")
@blp.response(200, ImportReportSchema)
@blp.doc(**file_upload("the CSV file (UTF-8, a header row; the columns of its kind), up to IMPORT_MAX_BYTES"))
def run_import(args, kind):
    """Import `contracts` or `certifications` from a CSV file (multipart field `file`; vendor admin).

    Every line is checked; a file with a bad line writes nothing (422
    `import_refused`, the report in `details`) unless `skip_bad` is set. The
    same file twice changes nothing the second time. `dry_run` only counts.
    """
    user = api_user()

    def read_upload():
        request.max_content_length = upload_limit()
        return request.files.get("file")

    return services.import_file(user, kind, read_upload, dry_run=args["dry_run"], skip_bad=args["skip_bad"])
