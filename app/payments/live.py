"""Payouts as they change, live: the programmes page and the partner's payments page update without a reload.

A payout's state change publishes its event in the change's own unit of work
(app.uow publishes once the change is committed, never for a rolled-back one),
on the programmes team's channel and on its partner's. The streams are the SR
pages' mechanism (app.live): server-sent events, read by app/static/payments-live.js.
A page's first connection hears first the payouts that changed since the page read them
(feed_backlog); a reconnection makes the page read its rows again.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Response, url_for

from app import access
from app.accounts.models import User
from app.clock import now
from app.live import streams
from app.payments.models import Payout
from app.payments.money import format_amount
from app.uow import UnitOfWork, unit_of_work

STAFF_CHANNEL = "payouts"


def feed_address() -> str:
    """The payout feed's address for a page about to read its rows: the feed sends first what changes
    from now on."""
    return url_for("payments_web.payout_feed", since=now().isoformat())


def partner_channel(partner_id: int) -> str:
    return f"payouts:partner:{partner_id}"


def payload(payout: Payout) -> dict[str, Any]:
    """What a page needs to redraw the payout's row and its claim's payment cell."""
    return {
        "id": payout.id, "kind": "payout", "payout_id": payout.id, "reference": payout.reference,
        "status": payout.status.value, "claim_id": payout.claim_id, "claim_status": payout.claim.status.value,
        "amount": format_amount(int(payout.amount), payout.currency),
        "paid_at": payout.paid_at.isoformat() if payout.paid_at else None,
        "paid": payout.paid_at.strftime("%Y-%m-%d %H:%M") if payout.paid_at else "",
    }


def announce(uow: UnitOfWork, payout: Payout) -> None:
    """Publish the payout's new state with the change that made it (sent once the unit commits)."""
    uow.publish((STAFF_CHANNEL, partner_channel(payout.partner_id)), payload(payout))


# What a page's feed sends first: the newest FEED_WINDOW payouts changed since the page read its rows.
# A payout's updated_at is taken before its unit commits: FEED_SLACK reaches back for units that were
# still open then.
FEED_WINDOW = 1000
FEED_SLACK = timedelta(seconds=10)


def feed_backlog(actor: User, since: datetime) -> list[dict[str, Any]]:
    """The payouts the caller sees that changed since `since`, as they are now, oldest change first."""
    query = (access.visible_payouts(actor).where(Payout.updated_at >= since - FEED_SLACK)
             .order_by(Payout.updated_at.desc(), Payout.id.desc()).limit(FEED_WINDOW))
    with unit_of_work() as uow:
        return [payload(payout) for payout in reversed(uow.session.scalars(query).unique().all())]


def feed_stream(actor: User, since: str | None = None) -> Response:
    """text/event-stream of the payouts the caller sees: every payout for the programmes team, else its own."""
    partner_id = access.payout_feed_partner(actor)
    channel = STAFF_CHANNEL if partner_id is None else partner_channel(partner_id)
    return streams.feed_stream(actor.id, channel, since, lambda read_at: feed_backlog(actor, read_at))
