"""The vendor admin's import page: upload a file, see what it would change, apply it and follow
its progress. The same services as /api/v1/imports, with the preview kept between the two steps."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from app import access
from app.extensions import csrf
from app.errors import DomainError, Forbidden, NotFound
from app.files.uploads import release_uploads
from app.imports import services
from app.imports.models import ImportStatus
from app.imports.registry import KINDS

blp = Blueprint("imports_web", __name__, template_folder="templates")


def _page(error: str | None = None, status: int = 200):
    return render_template("imports/imports.html", runs=services.list_runs(current_user), kinds=KINDS,
                           error=error), status


@blp.get("/admin/imports")
@login_required
def imports():
    return _page()


# Exempt from the global CSRF hook, which would read the whole file before anyone is authorised;
# the token is checked once the caller's role is known to allow imports.
@blp.post("/admin/imports/<kind>")
@csrf.exempt
@login_required
def upload(kind: str):
    access.require(current_user, "import.run")

    def read_upload():
        request.max_content_length = services.upload_limit()
        csrf.protect()
        return request.files.get("file")

    try:
        received = services.receive(current_user, kind, read_upload)
        # The form's other fields arrive with the file: read only now that it is in.
        run = services.preview(current_user, kind, received, skip_bad=request.form.get("skip_bad") == "y")
    except RequestEntityTooLarge:
        release_uploads()
        return _page("The file is larger than the import limit; nothing was read.", 413)
    except CSRFError as exc:
        return _page(f"{exc.description} Reload the page and send the file again.", 400)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        return _page(exc.message, exc.status)
    return redirect(url_for("imports_web.run", run_id=run.id), 303)


@blp.get("/admin/imports/<int:run_id>")
@login_required
def run(run_id: int):
    found = services.get_run(current_user, run_id)
    waiting = found.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    return render_template("imports/run.html", run=found, waiting=waiting, statuses=ImportStatus,
                           max_attempts=current_app.config["IMPORT_MAX_ATTEMPTS"])


@blp.post("/admin/imports/<int:run_id>/application")
@login_required
def apply(run_id: int):
    try:
        services.apply(current_user, run_id)
    except Forbidden:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("imports_web.run", run_id=run_id), 303)
