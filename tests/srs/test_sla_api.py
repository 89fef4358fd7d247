"""SLA clocks through the API with a controlled clock; breaches right at read time and notified once."""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.outbox.models import OutboxEvent
from app.srs import alerts
from app.srs.models import SLAAlert
from tests.conftest import T0
from tests.srs.helpers import escalate, get_sr, make_sr, move

H = timedelta(hours=1)


def listed(client, headers, query: str) -> list[str]:
    answer = client.get(f"/api/v1/srs?{query}", headers=headers)
    assert answer.status_code == 200, answer.json
    return [item["sr_number"] for item in answer.json["items"]]


def due(detail: dict, clock_name: str) -> datetime | None:
    value = detail["clocks"][clock_name]["due_at"]
    return datetime.fromisoformat(value) if value else None


def alert_rows(app) -> list[tuple]:
    with app.app_context():
        return [(a.kind.value, a.target, a.due_at) for a in
                db.session.scalars(sa.select(SLAAlert).order_by(SLAAlert.id))]


def alert_events(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)
                                 .where(OutboxEvent.topic == "notify.sr_sla_alerts"))


def test_pause_while_awaiting_the_partner_and_resume(client, tokens, clock):
    number = escalate(client, tokens, severity="S1")  # 1 h response, 4 h updates
    gtac = tokens["gtac"]
    clock.advance(minutes=20)
    assert move(client, gtac, number, "assigned").status_code == 200
    clock.advance(minutes=10)
    assert move(client, gtac, number, "in_progress").status_code == 200  # the initial response, at +30 min
    detail = get_sr(client, gtac, number)
    assert detail["clocks"]["initial_response"]["state"] == "met"
    assert due(detail, "update") == T0 + 30 * 60 * timedelta(seconds=1) + 4 * H
    clock.advance(hours=1)
    assert move(client, gtac, number, "awaiting_partner", note="Please send show tech").status_code == 200
    detail = get_sr(client, gtac, number)
    assert detail["clocks"]["update"]["state"] == "paused" and detail["sla_due_at"] is None
    clock.advance(hours=30)  # the partner takes its time: no breach while paused
    assert listed(client, gtac, "breached=true") == []
    # The partner answers on the thread: the SR goes back to GTAC with a fresh update period.
    answered = client.post(f"/api/v1/srs/{number}/messages", json={"body": "Attached show tech."},
                           headers=tokens["engineer"])
    assert answered.status_code == 201
    detail = get_sr(client, gtac, number)
    assert detail["status"] == "in_progress"
    assert due(detail, "update") == clock.now() + 4 * H


def test_severity_change_replans_and_only_gtac_may_do_it(client, tokens, clock):
    number = escalate(client, tokens, severity="S3")  # 24 h response
    clock.advance(hours=3)
    url = f"/api/v1/srs/{number}/severity"
    assert client.post(url, json={"severity": "S1"}, headers=tokens["engineer"]).status_code == 403
    assert client.post(url, json={"severity": "S0"}, headers=tokens["gtac"]).status_code == 400
    changed = client.post(url, json={"severity": "S1", "note": "Whole site down now"}, headers=tokens["gtac"])
    assert changed.status_code == 200, changed.json
    assert changed.json["severity"] == "S1"
    assert due(changed.json, "initial_response") == T0 + 4 * H
    assert datetime.fromisoformat(changed.json["sla_due_at"]) == T0 + 4 * H


def test_gtac_message_is_the_response_and_an_update(client, tokens, clock):
    number = escalate(client, tokens, severity="S2")
    clock.advance(hours=2)
    posted = client.post(f"/api/v1/srs/{number}/messages", json={"body": "We are on it."}, headers=tokens["gtac"])
    assert posted.status_code == 201
    detail = get_sr(client, tokens["engineer"], number)
    assert detail["clocks"]["initial_response"]["met_at"] == (T0 + 2 * H).isoformat()
    assert due(detail, "update") == T0 + 2 * H + 24 * H
    thread = client.get(f"/api/v1/cases/{detail['case_id']}/messages?channel=gtac", headers=tokens["engineer"])
    assert [m["body"] for m in thread.json] == ["We are on it."]
    # Customers never see this thread.
    assert client.get(f"/api/v1/cases/{detail['case_id']}/messages", headers=tokens["customer"]).json == []


def test_breached_filter_is_right_before_any_job_runs(app, client, tokens, clock):
    late = make_sr(app, "new", severity="S1")
    clock.advance(minutes=30)
    fresh = make_sr(app, "new", severity="S1")
    clock.advance(minutes=45)  # late is 15 min past due, fresh has 15 min left
    gtac = tokens["gtac"]
    assert listed(client, gtac, "breached=true") == [late]
    assert listed(client, gtac, "breached=false") == [fresh]
    assert get_sr(client, gtac, late)["breached"] is True
    assert alert_rows(app) == []  # nothing has been scanned yet
    # Answering ends the response breach: the SR leaves the breached list at once.
    assert move(client, gtac, late, "assigned").status_code == 200
    assert listed(client, gtac, "breached=true") == [late]  # taking is not answering
    number_detail = get_sr(client, gtac, late)
    assert number_detail["clocks"]["initial_response"]["breached"] is True


def test_the_job_records_warnings_and_breaches_once_however_often_it_runs(app, client, tokens, clock):
    s1 = make_sr(app, "new", severity="S1")
    make_sr(app, "new", severity="S4")
    clock.advance(minutes=50)  # past S1's 80 % point (48 min)
    with app.app_context():
        assert alerts.scan() == 1
        assert alerts.scan() == 0
    assert alert_rows(app) == [("warning", "response", T0 + H)]
    clock.advance(minutes=15)
    with app.app_context():
        assert alerts.scan() == 1
        assert alerts.scan() == 0
    assert alert_rows(app)[-1] == ("breach", "response", T0 + H)
    assert alert_events(app) == 2  # one notification per scan that found something, none for repeats
    assert get_sr(client, tokens["gtac"], s1)["breached"] is True


def test_a_late_response_before_the_job_still_counts_as_a_breach(app, client, tokens, clock):
    number = make_sr(app, "assigned", severity="S1")
    clock.advance(minutes=70)
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    assert ("breach", "response", T0 + H) in alert_rows(app)
    detail = get_sr(client, tokens["gtac"], number)
    assert detail["clocks"]["initial_response"]["met_late"] is True and detail["breached"] is False


def test_the_watch_command_runs_a_pass(app, demo, clock):
    make_sr(app, "new", severity="S1")
    clock.advance(hours=2)
    result = app.test_cli_runner().invoke(args=["srs", "watch", "--once"])
    assert result.exit_code == 0, result.output
    assert "alerts=1" in result.output
    assert [kind for kind, _, _ in alert_rows(app)] == ["breach"]


def test_two_jobs_at_the_same_moment_notify_each_alert_once(app, demo, postgres, clock, monkeypatch):
    """PostgreSQL: the concurrent inserts of the same alerts meet on the unique key; one wins.

    The first scan is held inside its transaction, its alerts inserted but not committed,
    until the second scan is seen waiting on it in the database: the two really overlap.
    """
    for _ in range(40):
        make_sr(app, "new", severity="S1")
    clock.advance(hours=2)
    record_alerts = alerts.record_alerts
    first_inserted = threading.Event()
    roles = iter(["first", "second"])
    seen: dict[str, object] = {}

    def held_record_alerts(session, at, batch, sr_id=None):
        role = next(roles)
        seen[f"{role} batch"] = batch
        if role == "second":
            return record_alerts(session, at, batch, sr_id)
        inserted = record_alerts(session, at, batch, sr_id)
        pid = session.scalar(sa.text("SELECT pg_backend_pid()"))
        first_inserted.set()
        seen["second waited on the first"] = waited_on(pid)
        return inserted

    def waited_on(pid: int) -> bool:
        """Whether, within 10 s, another connection waits for a lock held by this one."""
        for _ in range(200):
            # A transaction sees one snapshot of pg_stat_activity: each look is a transaction of its own.
            with db.engine.connect() as observer:
                if observer.scalar(sa.text("SELECT count(*) FROM pg_stat_activity "
                                           "WHERE :pid = ANY(pg_blocking_pids(pid))"), {"pid": pid}):
                    return True
            time.sleep(0.05)
        return False

    monkeypatch.setattr(alerts, "record_alerts", held_record_alerts)
    counts, errors = {}, []

    def run(name):
        try:
            with app.app_context():
                counts[name] = alerts.scan()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert first_inserted.wait(timeout=30), "the first scan did not get to its inserts"
    second = threading.Thread(target=run, args=("second",))
    second.start()
    for worker in (first, second):
        worker.join(timeout=60)
    assert errors == []
    assert seen["second waited on the first"] is True, "the second scan never overlapped the first"
    # Every alert is recorded once, by the scan that got there first; the other found them all taken.
    assert counts == {"first": 40, "second": 0}
    assert len(alert_rows(app)) == 40
    with app.app_context():
        per_sr = db.session.execute(sa.select(SLAAlert.sr_id, SLAAlert.kind, sa.func.count())
                                    .group_by(SLAAlert.sr_id, SLAAlert.kind)).all()
        batches = set(db.session.scalars(sa.select(SLAAlert.batch).distinct()))
        events = db.session.scalars(sa.select(OutboxEvent.payload)
                                    .where(OutboxEvent.topic == "notify.sr_sla_alerts")).all()
    assert len(per_sr) == 40 and {(kind.value, n) for _, kind, n in per_sr} == {("breach", 1)}
    assert batches == {seen["first batch"]}
    # One notification, from the scan that recorded the alerts; none from the one that found nothing.
    assert [e["batch"] for e in events] == [seen["first batch"]]


def test_alerts_are_mailed_to_the_queue_its_manager_and_the_engineer_once(app, demo, clock, caplog):
    saved = app.config["SR_QUEUE_MAILBOX"]
    app.config["SR_QUEUE_MAILBOX"] = "gtac-{queue}@vendor.example"
    try:
        make_sr(app, "assigned", severity="S1")  # Grace's: she hears of it
        make_sr(app, "new", severity="S1", queue="Fabric-Global")
        clock.advance(hours=2)
        with caplog.at_level(logging.INFO, logger="app.notifications.mail"):
            with app.app_context():
                alerts.scan()
                alerts.scan()
    finally:
        app.config["SR_QUEUE_MAILBOX"] = saved
    mails = [r.getMessage() for r in caplog.records if "SLA breach" in r.getMessage()]
    assert len(mails) == 2  # one per queue, none for the repeated scan
    exos = next(m for m in mails if "[EXOS-EMEA]" in m)
    for address in ("gtac-exos-emea@vendor.example", "manager@vendor.example", "gtac@vendor.example"):
        assert address in exos
    assert "1 SLA breach(es)" in exos
    fabric = next(m for m in mails if "[Fabric-Global]" in m)
    assert "gtac-fabric-global@vendor.example" in fabric and "gtac@vendor.example" not in fabric
