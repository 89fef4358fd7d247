"""The embedded default: no Redis, jobs run on a background thread of the web process."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest

from app.outbox import services
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


@contextmanager
def _outbox_thread_held(application, tokens):
    """The outbox thread held elsewhere meanwhile, so that the events committed wait together (the
    first hand-off's catch-up is done before)."""
    dispatcher = application.extensions["outbox_dispatch"]
    open_case(application, tokens["engineer"])
    dispatcher._submit().result(timeout=30)
    busy = threading.Event()
    dispatcher._thread().submit(busy.wait, 30)
    try:
        yield
    finally:
        busy.set()


@pytest.fixture
def batches(monkeypatch) -> list[tuple[str, list[int]]]:
    """The batches the outbox runs from now on: (topic, event ids) each."""
    seen: list[tuple[str, list[int]]] = []
    run_batch = services.run_batch

    def watched(topic, limit, only=None):
        seen.append((topic, list(only)))
        return run_batch(topic, limit, only)

    monkeypatch.setattr(services, "run_batch", watched)
    return seen


def test_cases_opened_while_the_thread_is_busy_are_mailed_from_one_batch(jobs_app, mailbox, tokens, batches):
    application = jobs_app(None)
    with _outbox_thread_held(application, tokens):
        batches.clear()  # the catch-up's
        case_ids = [open_case(application, tokens["engineer"]) for _ in range(4)]

    def mailed():
        """an e-mail for each of the four cases, and each event marked processed (after its e-mail went)"""
        return all(mailbox.about_case(case_id) and case_opened_event(application, case_id).processed_at
                   for case_id in case_ids)

    wait_until(mailed)
    event_ids = [case_opened_event(application, case_id).id for case_id in case_ids]
    assert batches == [("notify.case_opened", event_ids)]
    for case_id in case_ids:
        [mail] = mailbox.about_case(case_id)
        assert mail["X-Envelope-To"] == "engineer@northwind.example, admin@northwind.example"
        assert f"/cases/{case_id}" in mail.get_content()
        event = case_opened_event(application, case_id)
        assert event.processed_at is not None and event.attempts == 1


def test_a_refused_e_mail_in_a_batch_fails_its_own_event_alone(jobs_app, mailbox, tokens):
    application = jobs_app(None)
    application.extensions["outbox_dispatch"].retry_delay = 0.5
    with _outbox_thread_held(application, tokens):
        mailbox.refuse_next = 1  # the batch's first e-mail
        case_ids = [open_case(application, tokens["engineer"]) for _ in range(3)]

    def processed():
        """the three events processed, the refused one by a retry"""
        return all(case_opened_event(application, case_id).processed_at for case_id in case_ids)

    wait_until(processed)
    attempts = [case_opened_event(application, case_id).attempts for case_id in case_ids]
    assert attempts == [2, 1, 1]
    assert "SMTPDataError" in case_opened_event(application, case_ids[0]).last_error
    assert [len(mailbox.about_case(case_id)) for case_id in case_ids] == [1, 1, 1]


def test_a_busy_process_lingers_so_that_cases_opened_one_after_another_share_a_batch(
        jobs_app, mailbox, tokens, batches):
    application = jobs_app(None)
    application.config["OUTBOX_BATCH_LINGER_MS"] = 2000  # longer than three requests take on a loaded machine
    open_case(application, tokens["engineer"])
    application.extensions["outbox_dispatch"]._submit().result(timeout=30)  # the catch-up, out of the way
    batches.clear()
    # One after another, as one web process answers its requests: the thread is idle between them.
    case_ids = [open_case(application, tokens["engineer"]) for _ in range(3)]

    def mailed():
        """an e-mail for each of the three cases"""
        return all(mailbox.about_case(case_id) for case_id in case_ids)

    wait_until(mailed)
    assert batches == [("notify.case_opened", [case_opened_event(application, case_id).id for case_id in case_ids])]
