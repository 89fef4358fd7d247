"""SLA clock arithmetic (app/srs/sla.py): pauses, severity changes, calendars, with a controlled clock."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.srs.policy import load_sla
from app.srs.policy import CalendarBook, clock_policy
from app.srs.sla import AlwaysOpen, BusinessHours, ClockEvent, plan

T = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # a Monday
H = timedelta(hours=1)
TARGETS = load_sla()  # the shipped SPEC §6 defaults: S1 1h/4h, S2 4h/24h, S3 24h/72h, S4 48h/weekly
POLICY = clock_policy(TARGETS, CalendarBook(), None, 80)
PARIS = ZoneInfo("Europe/Paris")
OFFICE = BusinessHours("paris-office", PARIS, {d: (time(9), time(17)) for d in range(5)},
                       frozenset({date(2026, 12, 25)}))


def ev(hours: float, effect: str, severity: str | None = None) -> ClockEvent:
    return ClockEvent(T + timedelta(hours=hours), effect, severity)


def test_fresh_sr_runs_both_clocks_24x7_from_the_escalation():
    clocks = plan(T, "S2", [], POLICY)
    assert clocks.response.due_at == T + 4 * H
    assert clocks.update.due_at == T + 24 * H
    assert clocks.due_at == T + 4 * H
    # The near-breach point is 80 % of the target used.
    assert clocks.warn_at == T + timedelta(minutes=192)
    assert not clocks.breached(T + 4 * H - timedelta(seconds=1))
    assert clocks.breached(T + 4 * H)


def test_response_clock_pauses_and_resumes_with_the_remaining_time():
    clocks = plan(T, "S1", [ev(0.25, "pause"), ev(2, "resume")], POLICY)
    # 15 minutes were used before the pause; 45 remain from the resume.
    assert clocks.response.due_at == T + 2 * H + timedelta(minutes=45)
    paused = plan(T, "S1", [ev(0.25, "pause")], POLICY)
    assert paused.response.state == "paused" and paused.due_at is None
    assert paused.response.remaining == timedelta(minutes=45)
    assert not paused.breached(T + 100 * H)  # a paused clock never breaches


def test_update_cadence_restarts_at_each_update_and_excludes_paused_time():
    events = [ev(1, "respond"), ev(1, "update"), ev(2, "pause"), ev(10, "resume")]
    clocks = plan(T, "S1", events, POLICY)
    assert clocks.response.state == "met" and clocks.response.met_late is False
    # 4 h cadence from the update at +1h: 1 h ran before the pause, 3 h remain after +10h.
    assert clocks.update.due_at == T + 13 * H
    assert clocks.due_at == T + 13 * H


def test_late_response_is_recorded_as_met_late():
    clocks = plan(T, "S1", [ev(1.5, "respond"), ev(1.5, "update")], POLICY)
    assert clocks.response.met_at == T + 1.5 * H and clocks.response.met_late is True
    assert clocks.response.due_at is None


def test_a_clock_that_breached_before_a_pause_is_breached_again_on_resume():
    clocks = plan(T, "S1", [ev(2, "pause"), ev(5, "resume")], POLICY)
    assert clocks.response.due_at == T + H  # when it actually ran out
    assert clocks.breached(T + 5 * H)


def test_severity_upgrade_gives_the_new_targets_from_the_change():
    clocks = plan(T, "S3", [ev(3, "severity", "S1")], POLICY)
    assert clocks.severity == "S1"
    assert clocks.response.due_at == T + 4 * H  # 1 h from the change, not 1 h from the start
    assert clocks.update.due_at == T + 7 * H


def test_severity_downgrade_keeps_the_time_already_spent():
    clocks = plan(T, "S1", [ev(0.5, "severity", "S3")], POLICY)
    assert clocks.response.due_at == T + 24 * H
    assert clocks.update.due_at == T + 72 * H


def test_severity_change_while_paused_replans_what_remains():
    events = [ev(1, "respond"), ev(1, "update"), ev(2, "pause"), ev(3, "severity", "S1"), ev(4, "resume")]
    # Upgrade while paused: a fresh 4 h S1 cadence that starts running at the resume.
    assert plan(T, "S2", events, POLICY).update.due_at == T + 8 * H


def test_solution_stops_the_clocks_and_reopen_starts_a_fresh_update_period():
    events = [ev(0.5, "respond"), ev(0.5, "update"), ev(2, "respond"), ev(2, "stop")]
    stopped = plan(T, "S2", events, POLICY)
    assert stopped.update.state == "stopped" and stopped.due_at is None
    reopened = plan(T, "S2", [*events, ev(50, "restart")], POLICY)
    assert reopened.update.due_at == T + 74 * H and reopened.response.state == "met"


def test_business_hours_skip_nights_weekends_and_holidays():
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=PARIS)
    # 4 working hours from Friday 16:00: 1 h on Friday, 3 h on Monday from 09:00.
    assert OFFICE.add(friday_4pm, 4 * H) == datetime(2026, 11, 30, 12, 0, tzinfo=PARIS)
    christmas_eve = datetime(2026, 12, 24, 15, 0, tzinfo=PARIS)
    # Christmas is a holiday, the 26th and 27th a weekend: Monday the 28th at 11:00.
    assert OFFICE.add(christmas_eve, 4 * H) == datetime(2026, 12, 28, 11, 0, tzinfo=PARIS)
    assert OFFICE.work_between(friday_4pm, datetime(2026, 11, 30, 12, 0, tzinfo=PARIS)) == 4 * H
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=PARIS)
    assert OFFICE.add(sunday, timedelta(minutes=30)) == datetime(2026, 11, 30, 9, 30, tzinfo=PARIS)


def test_business_hours_follow_local_time_across_a_dst_change():
    # Paris leaves summer time on Sunday 25 October 2026: 09:00 is 07:00 UTC before, 08:00 UTC after.
    friday = datetime(2026, 10, 23, 16, 0, tzinfo=PARIS)
    due = OFFICE.add(friday, 2 * H)
    assert due == datetime(2026, 10, 26, 10, 0, tzinfo=PARIS)
    assert due.astimezone(timezone.utc).hour == 9


def test_s3_and_s4_run_on_the_regions_business_calendar_when_configured():
    book = CalendarBook({"paris-office": OFFICE}, {"S3": {"EMEA": "paris-office"}})
    emea = clock_policy(TARGETS, book, "EMEA", 80)
    opened = datetime(2026, 11, 27, 16, 0, tzinfo=PARIS)  # Friday 16:00
    # S3 initial response: 24 working hours = three 8-hour days: Fri 1h + Mon 8h + Tue 8h + Wed 7h.
    assert plan(opened, "S3", [], emea).response.due_at == datetime(2026, 12, 2, 16, 0, tzinfo=PARIS)
    # S1 stays 24x7, and so does S3 in a region without a calendar.
    assert plan(opened, "S1", [], emea).response.due_at == opened + H
    amer = clock_policy(TARGETS, book, "AMER", 80)
    assert plan(opened, "S3", [], amer).response.due_at == opened + 24 * H


def test_downgrade_onto_a_business_calendar_counts_the_rest_in_business_hours():
    book = CalendarBook({"paris-office": OFFICE}, {"S3": {"EMEA": "paris-office"}})
    emea = clock_policy(TARGETS, book, "EMEA", 80)
    opened = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)  # Monday 10:00, S2: 4 h 24x7
    clocks = plan(opened, "S2", [ClockEvent(opened + 2 * H, "severity", "S3")], emea)
    # 2 h already spent (24x7), 22 working hours left from Monday 12:00: Mon 5h, Tue 8h, Wed 8h, Thu 1h.
    assert clocks.response.due_at == datetime(2026, 11, 26, 10, 0, tzinfo=PARIS)


moments = st.integers(min_value=0, max_value=14 * 24 * 60).map(lambda m: T + timedelta(minutes=m))


@settings(max_examples=200, deadline=None)
@given(start=moments, minutes=st.integers(min_value=0, max_value=60 * 60))
def test_business_add_and_work_between_agree(start, minutes):
    due = OFFICE.add(start, timedelta(minutes=minutes))
    assert due >= start
    assert OFFICE.work_between(start, due) == timedelta(minutes=minutes)


@settings(max_examples=300, deadline=None)
@given(toggles=st.lists(st.integers(min_value=1, max_value=600), max_size=8),
       severity=st.sampled_from(["S1", "S2", "S3", "S4"]),
       office=st.booleans())
def test_the_due_time_is_when_running_time_reaches_the_target(toggles, severity, office):
    """Any sequence of pauses and resumes: the clock has run exactly its target at its due time."""
    calendar = OFFICE if office else AlwaysOpen()
    book = CalendarBook({"o": OFFICE}, {severity: {"R": "o"}}) if office else CalendarBook()
    policy = clock_policy(TARGETS, book, "R", 80)
    events, at, running, intervals, since = [], T, True, [], T
    for gap in toggles:
        at += timedelta(minutes=gap)
        events.append(ClockEvent(at, "pause" if running else "resume"))
        if running:
            intervals.append((since, at))
        else:
            since = at
        running = not running
    target = TARGETS.initial_response[severity]
    clocks = plan(T, severity, events, policy)
    used = sum((calendar.work_between(a, b) for a, b in intervals), timedelta(0))
    if running:
        due = clocks.response.due_at
        assert due is not None
        before_resume = [(a, min(b, due)) for a, b in intervals if a < due]
        ran = sum((calendar.work_between(a, b) for a, b in before_resume), timedelta(0))
        if due >= since:
            ran += calendar.work_between(since, due)
        assert ran == target
    else:
        assert clocks.response.state == "paused" and clocks.due_at is None
        assert clocks.response.remaining == max(target - used, timedelta(0))
