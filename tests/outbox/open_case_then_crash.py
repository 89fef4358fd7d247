"""A web process that dies mid-way through opening a case (run as a separate process).

    python -m tests.outbox.open_case_then_crash after-commit
        dies right after the case's transaction commits, before anything is enqueued;
    python -m tests.outbox.open_case_then_crash after-enqueue
        dies after the jobs are in Redis, before the events are marked enqueued.

It prints the case's outbox event ids as JSON, then exits with CRASHED at once
(os._exit: no clean-up, no atexit, no flush of anything but what it printed).
"""
from __future__ import annotations

import json
import os
import sys

import sqlalchemy as sa

CRASHED = 86
NEW_CASE = {"serial_number": "ACME-0004", "software_version": "32.6.1.4", "severity": "S2",
            "title": "Stack member reboots under load", "description": "Slot 2 reboots at peak."}


def crash(event_ids: list[int]) -> None:
    print(json.dumps(event_ids), flush=True)
    os._exit(CRASHED)


def main(point: str) -> None:
    from app import create_app
    from app.accounts.models import User
    from app.cases.services import open_case
    from app.extensions import db
    from app.outbox import services

    application = create_app()
    with application.app_context():
        engineer = db.session.scalars(
            sa.select(User).filter_by(email="engineer@northwind.example")).one()
        if point == "after-commit":
            application.extensions["outbox_dispatch"] = lambda events: crash([e for e, _ in events])
        elif point == "after-enqueue":
            # One job per event, as tests.outbox.test_outbox_on_redis.one_job_per_event: a batched
            # topic's events are never marked, their batch job takes whatever is pending.
            application.extensions["outbox_batch_handlers"].pop("notify.case_opened")
            services.mark_enqueued = crash
        else:
            raise SystemExit(f"unknown crash point {point!r}")
        open_case(engineer, NEW_CASE)
    raise SystemExit("the process was meant to crash and did not")


if __name__ == "__main__":
    main(sys.argv[1])
