"""Thin job entry points: each takes ids and runs one service call.

The outbox hands `payments.*` events to the "payments" RQ queue (or runs them
in-process on the embedded default); OUTBOX_HANDLERS and OUTBOX_BATCH_HANDLERS
below are what create_app merges into app.extensions["outbox_handlers"] and
["outbox_batch_handlers"].
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.integrations import callbacks
from app.jobs import job_context
from app.payments import notifications, payouts
from app.uow import UnitOfWork


def on_execute(uow: UnitOfWork, payload: dict) -> None:
    # The provider is called after the event's commit, with no transaction open.
    uow.after_commit(lambda: payouts.execute_payout(payload["payout_id"]))


def on_execute_batch(uow: UnitOfWork, events: list[tuple[int, dict]]) -> dict[int, str]:
    def execute() -> dict[int, str]:
        outcomes = payouts.execute_payouts(sorted({payload["payout_id"] for _event_id, payload in events}))
        return {event_id: str(outcomes[payload["payout_id"]]) for event_id, payload in events
                if isinstance(outcomes.get(payload["payout_id"]), Exception)}

    uow.after_commit(execute)
    return {}


def on_payout_event(uow: UnitOfWork, payload: dict) -> None:
    on_payout_events(uow, [(0, payload)])


def on_payout_events(uow: UnitOfWork, events: list[tuple[int, dict]]) -> dict[int, str]:
    """A payout's outcome: the partner's e-mail, and the callback owed to the platform that pushed its claim."""
    failed = notifications.on_payout_events(uow, events)
    callbacks.on_payout_events(uow, events)
    return failed


def on_refresh(uow: UnitOfWork, payload: dict) -> None:
    uow.after_commit(lambda: payouts.refresh_payout(payload["payout_id"]))


OUTBOX_HANDLERS = {
    "payments.execute": on_execute,
    "payments.refresh": on_refresh,
    "notify.payments.claim": notifications.on_claim_event,
    "notify.payments.payout": on_payout_event,
}
# Topics that come by the thousand when a quarter's claims are approved, run many at a time on RQ.
OUTBOX_BATCH_HANDLERS = {
    "payments.execute": on_execute_batch,
    "notify.payments.claim": notifications.on_claim_events,
    "notify.payments.payout": on_payout_events,
}


def execute_payout(payout_id: int) -> str:
    """RQ entry point for sending one payout outside the outbox (operators, tests)."""
    with job_context():
        return payouts.execute_payout(payout_id)


def refresh_payout(payout_id: int) -> str:
    """RQ entry point for polling one in-transit payout's status."""
    with job_context():
        return payouts.refresh_payout(payout_id)


def sweep_payouts() -> dict[str, int]:
    """Scheduled: restart stalled pending payouts and poll long in-transit ones (`flask payments sweep`)."""
    with job_context():
        config = current_app.config
        return payouts.sweep(timedelta(seconds=config["PAYMENTS_SWEEP_STALLED_AFTER"]),
                             timedelta(seconds=config["PAYMENTS_SWEEP_REFRESH_AFTER"]))
