"""GTAC's queue pages and dashboard, and the SR page GTAC and the partner share; all update live."""
from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import access
from app.accounts.models import GTAC_ROLES
from app.cases import services as cases
from app.clock import now
from app.errors import DomainError
from app.srs import dashboard as dashboards
from app.srs import events, queries, services, streams
from app.srs.schemas import ManagementEscalationInSchema, SRListQuerySchema, TransitionSchema
from app.srs.workflow import SolutionKind

blp = Blueprint("srs_web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/srs/static")
PAGE_SIZE = 50


def _gtac() -> bool:
    return current_user.role in GTAC_ROLES


def _queues() -> list[str]:
    return sorted({rule.queue for rule in current_app.extensions["routing"].rules})


@blp.get("/srs")
@login_required
def queue():
    """GTAC: open SRs, most urgent first (one queue or all). Partners: their SRs, newest first."""
    access.require(current_user, "sr.list")
    raw = {key: value for key, value in request.args.items() if value not in ("", None)}
    try:
        args = SRListQuerySchema().load({**{k: v for k, v in raw.items() if k != "mine"}, "limit": PAGE_SIZE})
    except ma.ValidationError:
        abort(400)
    args["sort"] = "urgency" if _gtac() else "newest"
    if raw.get("mine") == "1" and _gtac():
        args["assignee_id"] = current_user.id
    page = queries.list_srs(current_user, **args)
    more = url_for("srs_web.queue", **{**raw, "cursor": page.next_cursor}) if page.next_cursor else None
    return render_template("srs/queue.html", page=page, filters=raw, queues=_queues(), gtac=_gtac(),
                           more=more, now=now())


def _render_sr(number: str, error: str | None = None, status: int = 200):
    detail = services.get_sr(current_user, number)
    thread = cases.list_messages(current_user, detail.case_id, "gtac")
    _, timeline = services.history(current_user, number)
    last_id = timeline[-1]["id"] if timeline else 0
    return render_template("srs/sr.html", sr=detail, thread=thread, timeline=timeline[::-1], last_id=last_id,
                           gtac=_gtac(), error=error, solution_kinds=[k.value for k in SolutionKind],
                           may_escalate=access.allowed(current_user, "sr.management_escalation")), status


@blp.get("/srs/<number>")
@login_required
def sr_page(number: str):
    return _render_sr(number)


def _after_change(number: str, done: str, action):
    try:
        action()
    except ma.ValidationError as exc:
        return _render_sr(number, "Please check the form: " + "; ".join(
            f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for field, msgs in exc.messages.items()), 400)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _render_sr(number, exc.message, exc.status)
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

    return _after_change(number, f"SR {number} is now {form.get('to', '').replace('_', ' ')}.", act)


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
        if not level.isdigit():
            raise ma.ValidationError({"level": ["Choose a level from 1 to 3."]})
        data = ManagementEscalationInSchema().load({"level": int(level), "reason": request.form.get("reason", "")})
        services.request_management_escalation(current_user, number, data["level"], data["reason"])

    return _after_change(number, "GTAC management has been asked to look at this SR.", act)


@blp.get("/srs/<number>/events")
@login_required
def sr_events(number: str):
    """The SR page's live feed (the session's, where API clients use /api/v1/srs/<sr>/events)."""
    after = request.args.get("after", type=int)
    return streams.event_stream(current_user, number, after)


@blp.get("/srs/feed")
@login_required
def feed():
    """Live events of every SR the caller sees: GTAC's queues, or the partner's own SRs."""
    access.require(current_user, "sr.list")
    channel = events.GTAC_CHANNEL if _gtac() else events.partner_channel(current_user.organisation_id)
    return streams.feed_stream(channel)


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
