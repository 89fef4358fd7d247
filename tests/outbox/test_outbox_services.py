"""The unit of work and the outbox: events share their change's transaction, run at most once, and
their effects on the outside world run after the commit."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from app.accounts.models import Organisation, OrgKind
from app.audit.models import AuditEvent
from app.audit.services import record
from app.clock import FixedClock
from app.extensions import db
from app.outbox import services
from app.outbox.dispatch import queue_for
from app.outbox.models import OutboxEvent
from app.uow import NestedUnitOfWork, unit_of_work

TOPIC = "test.recorded"


class RecordingDispatcher:
    """Notes what it is handed and whether the events were committed by then."""

    def __init__(self):
        self.handed: list[tuple[int, str]] = []
        self.committed_when_handed: list[bool] = []

    def __call__(self, events):
        ids = [event_id for event_id, _ in events]
        # A separate connection sees only committed rows.
        with db.engine.connect() as other:
            found = other.scalars(sa.select(OutboxEvent.id).where(OutboxEvent.id.in_(ids))).all()
        self.committed_when_handed.append(sorted(found) == sorted(ids))
        self.handed.extend(events)
        return len(events)


@pytest.fixture
def handled(app, ctx, monkeypatch):
    """A test topic whose handler records its payloads; events are handed to a recorder."""
    calls: list[dict] = []
    monkeypatch.setitem(app.extensions["outbox_handlers"], TOPIC, lambda uow, payload: calls.append(payload))
    dispatcher = RecordingDispatcher()
    monkeypatch.setitem(app.extensions, "outbox_dispatch", dispatcher)
    return calls, dispatcher


def event_rows() -> list[OutboxEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)))


def organisation_names() -> list[str]:
    return list(db.session.scalars(sa.select(Organisation.name)))


def test_emit_refuses_a_topic_without_handler(handled):
    _, dispatcher = handled
    with pytest.raises(KeyError, match="no.such.topic"):
        with unit_of_work() as uow:
            uow.session.add(Organisation(name="Probe Vendor", kind=OrgKind.VENDOR))
            uow.emit("no.such.topic", {"x": 1})
    assert event_rows() == []
    assert organisation_names() == []
    assert dispatcher.handed == []


def test_event_is_committed_with_its_change_and_handed_over_after_commit(handled):
    _, dispatcher = handled
    with unit_of_work() as uow:
        uow.session.add(Organisation(name="Probe Vendor", kind=OrgKind.VENDOR))
        event = uow.emit(TOPIC, {"n": 1})
        assert dispatcher.handed == []  # nothing leaves before the commit

    assert organisation_names() == ["Probe Vendor"]
    [row] = event_rows()
    assert (row.topic, row.payload, row.processed_at, row.attempts) == (TOPIC, {"n": 1}, None, 0)
    assert dispatcher.handed == [(event.id, TOPIC)]
    assert dispatcher.committed_when_handed == [True]


@pytest.mark.parametrize("events, audited", [(1, 0), (1, 1), (3, 2), (5, 9), (2, 600)])
def test_each_event_is_handed_over_with_its_own_id_and_the_audit_rows_are_written_with_it(handled, events,
                                                                                          audited):
    _, dispatcher = handled
    with unit_of_work() as uow:
        emitted = [uow.emit(TOPIC, {"n": n}) for n in range(events)]
        for n in range(audited):  # 600: more than one statement holds (app.db.ONE_STATEMENT_PARAMETERS)
            record(None, "organisation", n, "organisation.probed", after={"n": n})
    assert {row.id: row.payload["n"] for row in event_rows()} == {event.id: n for n, event in enumerate(emitted)}
    assert dispatcher.handed == [(event.id, TOPIC) for event in emitted]
    written = db.session.execute(sa.select(AuditEvent.entity_id, AuditEvent.after)
                                 .where(AuditEvent.action == "organisation.probed")).all()
    assert sorted((int(entity_id), after["n"]) for entity_id, after in written) == [(n, n) for n in range(audited)]


def test_event_vanishes_with_the_rollback_of_its_change(handled):
    _, dispatcher = handled
    with pytest.raises(RuntimeError):
        with unit_of_work() as uow:
            uow.session.add(Organisation(name="Probe Vendor", kind=OrgKind.VENDOR))
            uow.emit(TOPIC, {"n": 1})
            uow.session.flush()
            uow.write_records()  # as the commit does before committing
            assert len(event_rows()) == 1  # written, inside the transaction
            raise RuntimeError("the change fails after the event was written")
    assert event_rows() == []
    assert organisation_names() == []
    assert dispatcher.handed == []
    # The next transaction does not inherit the rolled-back event either.
    with unit_of_work() as uow:
        uow.session.add(Organisation(name="Other Vendor", kind=OrgKind.VENDOR))
    assert dispatcher.handed == []


def test_run_event_runs_the_handler_once(handled):
    calls, _ = handled
    with unit_of_work() as uow:
        event = uow.emit(TOPIC, {"n": 7})
    assert services.run_event(event.id) is True
    assert services.run_event(event.id) is False
    assert calls == [{"n": 7}]
    [row] = event_rows()
    assert row.processed_at is not None and row.attempts == 1 and row.last_error is None
    assert services.undelivered() == []


def test_failing_handler_is_recorded_its_writes_undone_and_the_event_stays_pending(app, handled,
                                                                                   monkeypatch):
    def fails(uow, payload):
        uow.session.add(Organisation(name="Half-done Vendor", kind=OrgKind.VENDOR))
        uow.session.flush()
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setitem(app.extensions["outbox_handlers"], TOPIC, fails)
    with unit_of_work() as uow:
        event = uow.emit(TOPIC, {})
    for attempt in (1, 2):
        with pytest.raises(ConnectionRefusedError):
            services.run_event(event.id)
        [row] = event_rows()
        assert row.attempts == attempt
        assert row.last_error == "ConnectionRefusedError: mail server down"
        assert row.processed_at is None
    assert organisation_names() == []
    assert services.undelivered() == [(event.id, TOPIC)]


def test_effect_runs_once_after_the_commit_and_before_the_event_counts_as_processed(app, handled, monkeypatch):
    effects = []

    def handler(uow, payload):
        uow.after_commit(lambda: effects.append((processed_now(event_id), db.session().in_transaction())))

    monkeypatch.setitem(app.extensions["outbox_handlers"], TOPIC, handler)
    with unit_of_work() as uow:
        event = uow.emit(TOPIC, {})
    event_id = event.id
    assert services.run_event(event_id) is True
    assert services.run_event(event_id) is False
    # Ran once, while the event was still unprocessed, and with no transaction open.
    assert effects == [(False, False)]
    [row] = event_rows()
    assert row.processed_at is not None and row.attempts == 1 and row.leased_until is None


def test_an_event_whose_effect_is_under_way_is_left_alone_by_other_runners(app, handled, monkeypatch):
    seen = []

    def handler(uow, payload):
        # Another runner, while this one's effect is under way (its handler's commit is done).
        uow.after_commit(lambda: seen.append(services.run_event(event_id)))

    monkeypatch.setitem(app.extensions["outbox_handlers"], TOPIC, handler)
    with unit_of_work() as uow:
        event = uow.emit(TOPIC, {})
    event_id = event.id
    assert services.run_event(event_id) is True
    assert seen == [False]
    assert services.undelivered() == []


def test_failing_effect_leaves_the_event_pending(app, handled, monkeypatch):
    def refuse():
        raise OSError("connection refused by mail server")

    monkeypatch.setitem(app.extensions["outbox_handlers"], TOPIC, lambda uow, payload: uow.after_commit(refuse))
    with unit_of_work() as uow:
        event = uow.emit(TOPIC, {})
    with pytest.raises(OSError):
        services.run_event(event.id)
    [row] = event_rows()
    assert row.processed_at is None and row.attempts == 1 and row.leased_until is None
    assert row.last_error == "OSError: connection refused by mail server"
    assert services.undelivered() == [(event.id, TOPIC)]


def test_a_unit_of_work_never_joins_another(handled):
    with unit_of_work() as uow:
        uow.session.add(Organisation(name="Probe Vendor", kind=OrgKind.VENDOR))
        with pytest.raises(NestedUnitOfWork):
            with unit_of_work():
                pass
    assert organisation_names() == ["Probe Vendor"]


def test_a_locking_read_hands_back_the_row_as_locked_even_if_an_earlier_unit_loaded_it(app, handled):
    # The session outlives its units and keeps what they read (a page renders what a service returned);
    # a unit that locks a row decides on it as it is once locked, not as an earlier unit found it.
    with unit_of_work() as uow:
        uow.session.add(Organisation(name="Probe Vendor", kind=OrgKind.VENDOR))
    with unit_of_work() as uow:
        shown = uow.session.scalars(sa.select(Organisation).filter_by(name="Probe Vendor")).one()

    def renamed_elsewhere(name):  # by another request meanwhile
        with app.app_context(), unit_of_work() as uow:
            uow.session.get(Organisation, shown.id).name = name

    renamed_elsewhere("Renamed")
    with unit_of_work() as uow:
        assert uow.session.scalars(sa.select(Organisation).filter_by(id=shown.id)).one() is shown
        assert shown.name == "Probe Vendor"  # a plain read leaves it alone
        assert uow.session.get(Organisation, shown.id, with_for_update=True).name == "Renamed"
    renamed_elsewhere("Renamed again")
    with unit_of_work() as uow:
        locked = uow.session.scalars(sa.select(Organisation).filter_by(id=shown.id).with_for_update()).one()
        assert locked is shown and locked.name == "Renamed again"


def test_live_events_are_published_after_the_commit_and_never_after_a_rollback(app, handled, monkeypatch):
    published = []

    class Broker:
        def publish(self, channel, message):
            published.append((channel, message, processed_now_org()))

    monkeypatch.setitem(app.extensions, "live_broker", Broker())
    with unit_of_work() as uow:
        uow.session.add(Organisation(name="Probe Vendor", kind=OrgKind.VENDOR))
        uow.publish(("a", "b"), {"n": 1})
        assert published == []
    assert published == [("a", '{"n": 1}', True), ("b", '{"n": 1}', True)]
    with pytest.raises(RuntimeError):
        with unit_of_work() as uow:
            uow.publish(("a",), {"n": 2})
            raise RuntimeError("the change fails")
    assert len(published) == 2


def processed_now_org() -> bool:
    """Whether another connection already sees the probe organisation."""
    with db.engine.connect() as other:
        return other.scalar(sa.select(sa.func.count()).select_from(Organisation)
                            .where(Organisation.name == "Probe Vendor")) == 1


def processed_now(event_id: int) -> bool:
    """Whether another connection already sees the event as processed."""
    with db.engine.connect() as other:
        return other.scalar(sa.select(OutboxEvent.processed_at).where(OutboxEvent.id == event_id)) is not None


def test_undelivered_skips_recent_hand_overs_and_gives_up_after_max_attempts(app, handled,
                                                                           monkeypatch):
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    monkeypatch.setitem(app.extensions, "clock", clock)
    with unit_of_work() as uow:
        handed, fresh, exhausted = (uow.emit(TOPIC, {"n": n}) for n in range(3))
    services.mark_enqueued([handed.id])
    with unit_of_work() as uow:
        uow.session.get(OutboxEvent, exhausted.id).attempts = services.MAX_ATTEMPTS

    assert services.undelivered() == [(fresh.id, TOPIC)]
    clock.advance(seconds=services.REDELIVER_AFTER.total_seconds() + 1)
    assert services.undelivered() == [(handed.id, TOPIC), (fresh.id, TOPIC)]


def test_an_event_whose_runner_died_during_its_effects_is_handed_over_once_its_lease_ran_out(
        app, handled, monkeypatch):
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    monkeypatch.setitem(app.extensions, "clock", clock)
    with unit_of_work() as uow:
        event = uow.emit(TOPIC, {})
    services.mark_enqueued([event.id])
    with unit_of_work() as uow:  # what a runner killed after its handler's commit leaves behind
        uow.session.get(OutboxEvent, event.id).leased_until = clock.now() + services.LEASE

    assert services.undelivered() == []
    clock.advance(seconds=services.LEASE.total_seconds() + 1)
    # Long before the redelivery of a job merely waiting in its queue.
    assert services.LEASE < services.REDELIVER_AFTER
    assert services.undelivered() == [(event.id, TOPIC)]
    assert services.run_event(event.id) is True
    assert services.undelivered() == []


def test_events_go_to_queues_named_by_purpose():
    assert queue_for("notify.case_opened") == "notifications"
    assert queue_for("payments.payout_requested") == "payments"
    assert queue_for("sla.breach_check") == "default"


def test_a_handler_run_one_at_a_time_in_a_batch_fails_only_its_own_event(app, handled, monkeypatch):
    sent = []

    def handler(uow, payload):
        uow.session.add(Organisation(name=f"Vendor {payload['n']}", kind=OrgKind.VENDOR))
        uow.after_commit(lambda: sent.append(payload["n"]))
        if payload["n"] == 2:
            uow.session.flush()
            raise ConnectionRefusedError("directory down")

    monkeypatch.setitem(app.extensions["outbox_handlers"], TOPIC, handler)
    monkeypatch.setitem(app.extensions["outbox_batch_handlers"], TOPIC, services.one_at_a_time(TOPIC))
    with unit_of_work() as uow:
        events = [uow.emit(TOPIC, {"n": n}) for n in (1, 2, 3)]
    ids = [event.id for event in events]

    done, failed = services.run_batch(TOPIC, 10)

    assert done == 2 and failed == {ids[1]: "ConnectionRefusedError: directory down"}
    # The failed event's writes and e-mail went with it; the others' stand.
    assert sent == [1, 3]
    assert sorted(organisation_names()) == ["Vendor 1", "Vendor 3"]
    rows = event_rows()
    assert [(row.processed_at is not None, row.attempts) for row in rows] == [(True, 1), (False, 1), (True, 1)]


def test_the_audit_events_and_outbox_events_of_a_failed_event_in_a_batch_go_with_it(app, handled, monkeypatch):
    from app.audit import services as audit
    from app.audit.models import AuditEvent

    follow_up = "test.follow_up"

    def handler(uow, payload):
        audit.record(None, "test", payload["n"], "handled")
        uow.emit(follow_up, {"after": payload["n"]})
        if payload["n"] == 2:
            raise ConnectionRefusedError("directory down")

    monkeypatch.setitem(app.extensions["outbox_handlers"], TOPIC, handler)
    monkeypatch.setitem(app.extensions["outbox_handlers"], follow_up, lambda uow, payload: None)
    monkeypatch.setitem(app.extensions["outbox_batch_handlers"], TOPIC, services.one_at_a_time(TOPIC))
    with unit_of_work() as uow:
        for n in (1, 2, 3):
            uow.emit(TOPIC, {"n": n})

    done, failed = services.run_batch(TOPIC, 10)

    assert done == 2 and len(failed) == 1
    db.session.expire_all()
    audited = db.session.scalars(sa.select(AuditEvent.entity_id).where(AuditEvent.entity_type == "test"))
    assert sorted(audited) == ["1", "3"]
    follow_ups = [row.payload["after"] for row in event_rows() if row.topic == follow_up]
    assert sorted(follow_ups) == [1, 3]
