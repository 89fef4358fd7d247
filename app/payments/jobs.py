"""Thin job entry points: each takes ids and runs one service call.

The outbox hands `payments.*` events to the "payments" RQ queue (or runs them
in-process on the embedded default); OUTBOX_HANDLERS below is what create_app
merges into app.extensions["outbox_handlers"].
"""
from __future__ import annotations

from app.jobs import job_context
from app.payments import notifications, payouts


def on_execute(payload: dict) -> None:
    payouts.execute_payout(payload["payout_id"])


def on_refresh(payload: dict) -> None:
    payouts.refresh_payout(payload["payout_id"])


OUTBOX_HANDLERS = {
    "payments.execute": on_execute,
    "payments.refresh": on_refresh,
    "notify.payments.claim": notifications.on_claim_event,
    "notify.payments.payout": notifications.on_payout_event,
}


def execute_payout(payout_id: int) -> str:
    """RQ entry point for sending one payout outside the outbox (operators, tests)."""
    with job_context():
        return payouts.execute_payout(payout_id)


def refresh_payout(payout_id: int) -> str:
    """RQ entry point for polling one in-transit payout's status."""
    with job_context():
        return payouts.refresh_payout(payout_id)
