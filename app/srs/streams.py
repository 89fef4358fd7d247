"""An SR's event stream: check access, subscribe, read the backlog, then stream live (app.live.streams)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, request

from app import access
from app.accounts.models import User
from app.bounds import MAX_COUNT, ascii_digits
from app.errors import InvalidInput
from app.live import streams
from app.srs import progress, services, timeline
from app.srs.models import SRHistory
from app.uow import unit_of_work


def _last_event_id(after: int | None) -> int | None:
    raw = request.headers.get("Last-Event-ID")
    if raw is None:
        if after is not None and not 0 <= after <= MAX_COUNT:
            raise InvalidInput(f"after must be an event id from 0 to {MAX_COUNT}.", code="invalid_input",
                               details={"fields": {"after": ["Not an event id."]}})
        return after
    if not ascii_digits(raw, len(str(MAX_COUNT))) or int(raw) > MAX_COUNT:
        raise InvalidInput("Last-Event-ID must be an event id this stream sent.", code="invalid_last_event_id")
    return int(raw)


def event_stream(actor: User, number: str, after: int | None = None) -> Response:
    """text/event-stream of one SR's timeline: what came after Last-Event-ID (or `after`), then live."""
    last_id = _last_event_id(after)
    with unit_of_work() as uow:
        sr = access.get_sr(actor, number)
        access.require(actor, "sr.read")
        sr_id = sr.id
        if last_id is None:  # a fresh stream starts from now
            last_id = uow.session.scalar(sa.select(sa.func.max(SRHistory.id)).where(SRHistory.sr_id == sr_id)) or 0
    return streams.stream(actor.id, timeline.sr_channel(sr_id), last_id,
                          lambda: services.history(actor, number, after_id=last_id)[1])


def feed_stream(actor: User, since: str | None = None) -> Response:
    """Live events of every SR the caller sees: GTAC's queues, or the partner's own SRs; a page's first
    connection hears first the timeline entries written since the page read its rows."""
    partner_id = access.sr_feed_partner(actor)
    channel = timeline.GTAC_CHANNEL if partner_id is None else timeline.partner_channel(partner_id)
    return streams.feed_stream(actor.id, channel, since, lambda read_at: services.feed_backlog(actor, read_at))


def progress_stream(actor: User, case_id: int, after: int | None = None) -> Response:
    """text/event-stream of a customer's case's stages (app.srs.progress): customer-safe events only."""
    last_id = _last_event_id(after)
    if last_id is None:  # a fresh stream starts from now
        last_id, _ = progress.progress_backlog(actor, case_id, None)
    return streams.stream(actor.id, progress.case_channel(case_id), last_id,
                          lambda: progress.progress_backlog(actor, case_id, last_id)[1])
