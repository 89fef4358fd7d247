"""The embedded default: no Redis, jobs run on a background thread of the web process."""
from __future__ import annotations

import time

from app.outbox.dispatch import InProcessDispatcher
from tests.outbox.conftest import case_opened_event, outbox_event, wait_until
from tests.outbox.test_outbox_on_redis import open_case


def test_case_opened_is_mailed_from_the_background_without_slowing_the_request(
        jobs_app, mailbox, tokens):
    application = jobs_app(None)
    dispatcher = application.extensions["outbox_dispatch"]
    assert isinstance(dispatcher, InProcessDispatcher)
    mailbox.released.clear()  # the mail server sits on the message until told

    started = time.monotonic()
    case_id = open_case(application, tokens["engineer"])
    listed = application.test_client().get("/api/v1/cases", headers=tokens["customer"])
    assert listed.status_code == 200 and case_id in [c["id"] for c in listed.json["items"]]
    # The mail server holds delivery for 20 s; neither request waited for it.
    assert time.monotonic() - started < 5
    assert mailbox.about_case(case_id) == []

    mailbox.released.set()

    def mailed():
        """the case-opened e-mail"""
        return mailbox.about_case(case_id)

    [mail] = wait_until(mailed)
    assert mail["X-Envelope-To"] == "engineer@northwind.example, admin@northwind.example"
    # Another drain, queued behind every earlier one, finds nothing left to send.
    assert dispatcher._submit().result(timeout=30) == 0
    assert len(mailbox.about_case(case_id)) == 1
    event = case_opened_event(application, case_id)
    assert event.processed_at is not None and event.attempts == 1


def test_failed_delivery_is_recorded_and_retried_by_a_later_drain(jobs_app, mailbox, tokens):
    application = jobs_app(None)
    dispatcher = application.extensions["outbox_dispatch"]
    dispatcher.retry_delay = 0.5
    mailbox.refuse_next = 2

    case_id = open_case(application, tokens["engineer"])
    event_id = case_opened_event(application, case_id).id

    def delivered():
        """the event to be processed after two refusals"""
        return outbox_event(application, event_id).processed_at is not None

    wait_until(delivered)
    event = outbox_event(application, event_id)
    assert event.attempts == 3
    assert "SMTPDataError" in event.last_error
    assert len(mailbox.about_case(case_id)) == 1
