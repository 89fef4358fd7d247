"""GTAC's queue pages and dashboard, and the SR page GTAC and the partner share; all update live."""
from __future__ import annotations

from collections import namedtuple

import marshmallow as ma
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from app import access
from app.bounds import MAX_ID, ascii_digits
from app.accounts.models import GTAC_ROLES
from app.attachments.forms import ATTACHMENT_KINDS, human_size, read_upload_form
from app.attachments.http import download_response
from app.clock import now
from app.errors import DomainError, Forbidden, InvalidInput, NotFound
from app.extensions import csrf
from app.srs import attachments as sr_attachments
from app.rma import services as rma
from app.rma.schemas import RMARequestSchema, RMATransitionSchema
from app.srs import dashboard as dashboards
from app.srs import page as pages
from app.srs import progress
from app.srs import queries, services, streams
from app.srs.schemas import (AssignmentSchema, ManagementEscalationInSchema, SeverityChangeSchema,
                             SRListQuerySchema, TransitionSchema)
from app.srs.workflow import SolutionKind
from app.web.filters import format_when

SEVERITIES = [("S1", "S1 · network down"), ("S2", "S2 · degraded"), ("S3", "S3 · minor impact"),
              ("S4", "S4 · question or request")]
blp = Blueprint("srs_web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/srs/static")
PAGE_SIZE = 50


def _gtac() -> bool:
    return current_user.role in GTAC_ROLES


def _queues() -> list[str]:
    # The routing rules are loaded at start-up: their queue names are sorted once per rule set.
    routing = current_app.extensions["routing"]
    cached = current_app.extensions.get("srs_queue_names")
    if cached is None or cached[0] is not routing:
        cached = current_app.extensions["srs_queue_names"] = (routing, sorted({r.queue for r in routing.rules}))
    return cached[1]


# One instance for every request: marshmallow copies a schema's fields on each instantiation.
_LIST_ARGS = SRListQuerySchema()
# A queue page row: the list row and its SLA cell, formatted here once, not through template calls per row.
QueueRow = namedtuple("QueueRow", (*queries.ROW_FIELDS, "status_text", "due_iso", "due_text", "overdue"))


def _queue_row(row, at) -> QueueRow:
    due = row.sla_due_at
    return QueueRow(*row, row.status.replace("_", " "), due.isoformat() if due else None,
                    format_when(due) if due else None, due is not None and due <= at)


# The API's orders (SRListQuerySchema.sort) as the page's order select names them.
SORTS = [("urgency", "Most urgent first (open SRs)"), ("newest", "Newest first")]
# The page's labels for the API's list parameters, in its refusals.
FILTER_LABELS = {"queue": "Queue", "severity": "Severity", "status": "Status", "breached": "SLA",
                 "assignee_id": "Engineer", "sort": "Order", "cursor": "Page"}
# Refusals of what the page offers as a select, in the select's words rather than the API's values.
CHOICE_REFUSALS = {
    "sort": "Choose one of the orders the list offers: " + ", ".join(label for _, label in SORTS) + ".",
    "assignee_id": "Choose one of the GTAC engineers the list offers.",
}


def _refusal(messages: dict) -> InvalidInput:
    """The list's 400, naming each filter that was refused and why."""
    reasons = []
    for name, problems in messages.items():
        # A partner's page has no engineer select to point to: its assignee_id is the API's.
        reason = CHOICE_REFUSALS.get(name) if _gtac() or name != "assignee_id" else None
        if reason is None:
            reason = " ".join(map(str, problems)) if isinstance(problems, list) else str(problems)
        reasons.append(f"{FILTER_LABELS.get(name, name)}: {reason}")
    return InvalidInput("Please check the filters: " + "; ".join(reasons), details={"fields": messages})


@blp.get("/srs")
@login_required
def queue():
    """GTAC: open SRs, most urgent first (one queue or all). Partners: their SRs, newest first. Either may
    choose the API's filters and order."""
    access.require(current_user, "sr.list")
    gtac = _gtac()
    raw = {key: value for key, value in request.args.items() if value not in ("", None)}
    wanted = {key: value for key, value in raw.items() if key != "mine"}
    if raw.get("mine") == "1" and gtac:  # the address "Assigned to me" had before it was an engineer choice
        wanted.setdefault("assignee_id", str(current_user.id))
    wanted.setdefault("sort", "urgency" if gtac else "newest")
    try:
        args = _LIST_ARGS.load({**wanted, "limit": PAGE_SIZE})
    except ma.ValidationError as exc:
        raise _refusal(exc.messages) from None
    read_at = now()  # before the rows are read: the feed sends what changed from then on
    try:
        shown = pages.queue_page(current_user, **args)
    except InvalidInput as exc:
        if exc.code != "assignee_not_offered":
            raise
        raise _refusal(exc.details["fields"]) from None
    page = shown.page
    # The engineer select: the caller first, as "Assigned to me", then every other GTAC engineer and manager.
    engineers = None if shown.colleagues is None else [
        (current_user.id, "Assigned to me"), *((person.id, person.name) for person in shown.colleagues)]
    more = url_for("srs_web.queue", **{**raw, "cursor": page.next_cursor}) if page.next_cursor else None
    at = now()
    return render_template("srs/queue.html", rows=[_queue_row(row, at) for row in page.items], filters=raw,
                           queues=_queues(), gtac=gtac, more=more, sr_base=url_for("srs_web.queue"),
                           engineers=engineers, assignee_id=args.get("assignee_id"), sorts=SORTS,
                           sort=args["sort"], feed=url_for("srs_web.feed", since=read_at.isoformat()),
                           narrowed=any(key != "sort" for key in raw))


def _render_sr(number: str, error: str | None = None, status: int = 200, **feedback):
    shown = pages.sr_page(current_user, number)
    timeline = shown.timeline
    last_id = timeline[-1]["id"] if timeline else 0
    return render_template("srs/sr.html", sr=shown.detail, case=shown.case, case_visible=shown.case_visible,
                           checklist=shown.checklist, thread=shown.thread, timeline=timeline[::-1],
                           last_id=last_id, gtac=_gtac(), error=error,
                           solution_kinds=[k.value for k in SolutionKind],
                           may_escalate=access.allowed(current_user, "sr.management_escalation"),
                           attachments=shown.attachments, attachment_kinds=ATTACHMENT_KINDS,
                           may_upload=access.allowed(current_user, "sr.attachment.upload"),
                           max_upload_bytes=current_app.config["MAX_UPLOAD_BYTES"],
                           may_request_rma=access.allowed(current_user, "rma.request"),
                           may_decide_rma=access.allowed(current_user, "rma.decide"),
                           may_receive_rma=access.allowed(current_user, "rma.receive"),
                           staff=shown.staff, may_rate=access.allowed(current_user, "sr.severity"),
                           severities=SEVERITIES, rma_slots=rma.MAX_ITEMS, triage=shown.triage,
                           page_url=url_for("srs_web.sr_page", number=number), **feedback), status


@blp.get("/srs/<number>")
@login_required
def sr_page(number: str):
    return _render_sr(number)


def _after_change(number: str, done: str, action, **refused):
    """Run the page's action; a refusal draws the page again with the reason (and `refused`, what
    the template needs to fill the form in again)."""
    try:
        action()
    except ma.ValidationError as exc:
        return _render_sr(number, _form_errors(exc.messages), 400, **refused)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _render_sr(number, exc.message, exc.status, **refused)
    flash(done, "info")
    return redirect(url_for("srs_web.sr_page", number=number), code=303)


@blp.post("/srs/<number>/transitions")
@login_required
def transition(number: str):
    form = request.form

    def act():
        body = {"to": form.get("to", ""), "note": form.get("note") or None}
        if form.get("solution_kind") or form.get("solution_content"):
            body["solution"] = {"kind": form.get("solution_kind", ""), "content": form.get("solution_content", "")}
        data = TransitionSchema().load(body)
        services.transition(current_user, number, data["to"], note=data.get("note"), solution=data.get("solution"))

    return _after_change(number, f"SR {number} is now {form.get('to', '').replace('_', ' ')}.", act,
                         transition_posted=form)


def _note() -> str | None:
    return (request.form.get("note") or "").strip() or None


@blp.post("/srs/<number>/assignment")
@login_required
def assign(number: str):
    """A manager gives the SR to a GTAC engineer, or to another one."""
    def act():
        chosen = request.form.get("assignee_id", "")
        if not ascii_digits(chosen, len(str(MAX_ID))):
            raise ma.ValidationError({"engineer": ["Choose an engineer."]})
        data = AssignmentSchema().load({"assignee_id": int(chosen), **({"note": _note()} if _note() else {})})
        services.assign(current_user, number, data["assignee_id"], data.get("note"))

    return _after_change(number, f"SR {number} assigned.", act)


@blp.post("/srs/<number>/severity")
@login_required
def change_severity(number: str):
    """GTAC re-rates the SR; its SLA clocks are re-planned."""
    def act():
        data = SeverityChangeSchema().load({"severity": request.form.get("severity", ""),
                                            **({"note": _note()} if _note() else {})})
        services.change_severity(current_user, number, data["severity"], data.get("note"))

    return _after_change(number, f"SR {number} severity is now {request.form.get('severity', '')}.", act)


@blp.post("/srs/<number>/messages")
@login_required
def post_message(number: str):
    body = (request.form.get("body") or "").strip()

    def act():
        if not body or len(body) > 20000:
            raise ma.ValidationError({"message": ["Write between 1 and 20000 characters."]})
        services.post_message(current_user, number, body)

    return _after_change(number, "Message sent.", act)


@blp.post("/srs/<number>/management-escalations")
@login_required
def management_escalation(number: str):
    def act():
        level = request.form.get("level", "")
        if not ascii_digits(level, 1):
            raise ma.ValidationError({"level": ["Choose a level from 1 to 3."]})
        data = ManagementEscalationInSchema().load({"level": int(level), "reason": request.form.get("reason", "")})
        services.request_management_escalation(current_user, number, data["level"], data["reason"])

    return _after_change(number, "GTAC management has been asked to look at this SR.", act)


# Exempt from the global CSRF hook, which would read the whole body before anyone is
# authorised; read_upload_form checks the token once the service has authorised the caller.
@blp.post("/srs/<number>/attachments")
@csrf.exempt
@login_required
def upload_attachment(number: str):
    """Add one file to the SR's thread (multipart: kind, file), streamed to storage."""
    try:
        attachment = sr_attachments.upload(current_user, number, read_upload_form)
    except RequestEntityTooLarge:
        limit = human_size(current_app.config["MAX_UPLOAD_BYTES"])
        return _render_sr(number, status=413, upload_error=f"The file is larger than the {limit} limit.")
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        return _render_sr(number, status=exc.status, upload_error=exc.message,
                          upload_kind=request.form.get("kind"))
    flash(f"Uploaded {attachment.filename} ({human_size(attachment.size)}); the customer does not see it.", "info")
    return redirect(url_for("srs_web.sr_page", number=number, _anchor="attachments"), 303)


@blp.get("/srs/<number>/attachments/<int:attachment_id>")
@login_required
def download_attachment(number: str, attachment_id: int):
    """The file itself, always as a download: never rendered in the page's origin."""
    return download_response(sr_attachments.get_attachment(current_user, number, attachment_id))


def _rma_form() -> dict:
    """The RMA request as posted: the ship-to address and the filled product rows (empty rows skipped)."""
    items = []
    for index in range(rma.MAX_ITEMS):
        serial = (request.form.get(f"serial_{index}") or "").strip()
        failure = (request.form.get(f"failure_{index}") or "").strip()
        if serial or failure:
            items.append({"serial_number": serial, "failure_description": failure})
    return {"ship_to": (request.form.get("ship_to") or "").strip(), "items": items}


def _form_errors(messages: dict) -> str:
    """Marshmallow's messages as one sentence: "items, product 2, failure description: ..."."""
    def lines(node: dict) -> list[str]:
        found = []
        for key, value in node.items():
            label = f"product {key + 1}" if isinstance(key, int) else str(key).replace("_", " ")
            if isinstance(value, dict):
                found += [f"{label}, {line}" for line in lines(value)]
            else:
                found.append(f"{label}: {' '.join(map(str, value)) if isinstance(value, list) else value}")
        return found

    return "Please check the form: " + "; ".join(lines(messages))


@blp.post("/srs/<number>/rmas")
@login_required
def request_rma(number: str):
    """The partner asks for an RMA of up to five products; each refused serial is shown with its reason."""
    posted = _rma_form()
    try:
        data = RMARequestSchema().load(posted)
        created = rma.request_rma(current_user, number, data["ship_to"], data["items"])
    except ma.ValidationError as exc:
        return _render_sr(number, status=400, rma_error=_form_errors(exc.messages), rma_posted=posted)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _render_sr(number, status=exc.status, rma_error=exc.message,
                          rma_refused=exc.details.get("serials", []), rma_posted=posted)
    flash(f"RMA {created.number} requested; GTAC decides on it.", "info")
    return redirect(url_for("srs_web.sr_page", number=number, _anchor="rmas"), 303)


@blp.post("/srs/<number>/rmas/<rma_number>/transitions")
@login_required
def move_rma(number: str, rma_number: str):
    """GTAC approves, rejects or ships (with tracking); either side confirms receipt."""
    if rma.get_rma(current_user, rma_number).service_request.number != number:
        abort(404)
    form = request.form
    try:
        data = RMATransitionSchema().load({key: value for key, value in {
            "to": form.get("to", ""), "note": (form.get("note") or "").strip() or None,
            "tracking": (form.get("tracking") or "").strip() or None}.items() if value is not None})
        moved = rma.move_rma(current_user, rma_number, data["to"], data.get("note"), data.get("tracking"))
    except ma.ValidationError as exc:
        return _render_sr(number, status=400, rma_error=_form_errors(exc.messages))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _render_sr(number, status=exc.status, rma_error=exc.message)
    flash(f"RMA {moved.number} is now {moved.status.value}.", "info")
    return redirect(url_for("srs_web.sr_page", number=number, _anchor="rmas"), 303)


@blp.get("/srs/<number>/events")
@login_required
def sr_events(number: str):
    """The SR page's live feed (the session's, where API clients use /api/v1/srs/<sr>/events)."""
    after = request.args.get("after", type=int)
    return streams.event_stream(current_user, number, after)


@blp.get("/srs/feed")
@login_required
def feed():
    """Live events of every SR the caller sees: GTAC's queues, or the partner's own SRs; `since`: when
    the page read its rows (what changed since is sent first)."""
    return streams.feed_stream(current_user, request.args.get("since"))


@blp.get("/my/cases/<int:case_id>/progress")
@login_required
def case_progress(case_id: int):
    """The customer's case as GTAC works it: the SR number, customer-safe stages, the partner's messages."""
    return render_template("srs/progress.html", progress=progress.case_progress(current_user, case_id),
                           stages=progress.STAGES)


@blp.get("/my/cases/<int:case_id>/progress/events")
@login_required
def case_progress_events(case_id: int):
    """The customer's live feed of its case's stages (the progress page and the case page's SR box)."""
    after = request.args.get("after", type=int)
    return streams.progress_stream(current_user, case_id, after)


@blp.get("/gtac/dashboard")
@login_required
def manager_dashboard():
    board = dashboards.dashboard(current_user)
    return render_template("srs/dashboard.html", board=board, chart=_chart(board))


def _chart(board) -> dict:
    """Bar positions of inflow and closures per day for an inline SVG (no script, no CDN)."""
    width, height, left, bottom = 720, 220, 36, 24
    peak = max([*board.inflow, *board.closures, 1])
    step = (width - left) / len(board.days)
    bar = max(step / 2 - 1, 1)
    scale = (height - bottom - 10) / peak
    bars = []
    for index, (day, came, went) in enumerate(zip(board.days, board.inflow, board.closures)):
        x = left + index * step
        bars.append({"day": day, "inflow": came, "closures": went, "x_in": round(x, 1),
                     "x_out": round(x + bar, 1), "h_in": round(came * scale, 1), "h_out": round(went * scale, 1),
                     "y_in": round(height - bottom - came * scale, 1), "y_out": round(height - bottom - went * scale, 1)})
    return {"width": width, "height": height, "left": left, "bottom": bottom, "bar": round(bar, 1),
            "peak": peak, "bars": bars, "baseline": height - bottom}
