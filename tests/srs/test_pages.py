"""GTAC's queue page, the SR page and the manager dashboard in a real browser; live updates without reload."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.srs.models import SRHistory
from tests.browser import (accessibility_violations, opened_with_live_updates_refused, overflow, sign_in,
                           streams_held, wait_for_streams)
from tests.srs.helpers import escalate, make_sr, move, user_id

# Short stream heartbeats (live_server) for the pages that update without a reload.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("live_server")]
# How long a change made elsewhere may take to show on an open page. A change arrives in tens of
# milliseconds; the margin is for CI, where three test legs share two cores. That the page was not
# reloaded meanwhile is what still_same_page() proves.
LIVE_MS = 10_000


def mark_page(page):
    """A marker that a reload or navigation would wipe out."""
    page.evaluate("window.__notReloaded = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def shows_assigned_without_reload(page, row) -> None:
    """The row of an SR the manager gave to itself, updated in place."""
    expect(row.locator('[data-field="status"]')).to_have_text("assigned", timeout=LIVE_MS)
    expect(row.locator('[data-field="assignee"]')).to_have_text("Max Manager")
    assert still_same_page(page)


def test_partner_sees_a_status_change_made_through_the_api_without_reloading(app, client, tokens, page):
    number = escalate(client, tokens)
    sign_in(page, "engineer")
    page.goto(f"/srs/{number}")
    details = page.get_by_role("region", name="Service request")
    expect(details.locator('[data-field="status"]')).to_have_text("new")
    mark_page(page)
    # No wait for the stream: it replays what came after the last entry the page was drawn with.
    assert move(client, tokens["gtac"], number, "assigned").status_code == 200
    assert move(client, tokens["gtac"], number, "in_progress", note="Reading your logs").status_code == 200
    expect(details.locator('[data-field="status"]')).to_have_text("in progress", timeout=LIVE_MS)
    expect(details.locator('[data-field="assignee"]')).to_have_text("Grace GTAC")
    expect(page.locator("#timeline li").first).to_contain_text("Reading your logs")
    client.post(f"/api/v1/srs/{number}/messages", json={"body": "Which optic is in 1:49?"}, headers=tokens["gtac"])
    expect(page.locator("#thread")).to_contain_text("Which optic is in 1:49?", timeout=LIVE_MS)
    assert still_same_page(page)


def test_a_page_whose_live_updates_are_refused_says_so(app, client, tokens, page, monkeypatch):
    number = escalate(client, tokens)
    notice = opened_with_live_updates_refused(app, page, monkeypatch, f"/srs/{number}")
    expect(page.get_by_role("alert")).to_have_id("live-stopped")
    expect(notice).to_contain_text("Live updates have stopped on this page")
    expect(notice.get_by_role("link", name="Reload")).to_have_attribute("href", re.compile(rf"/srs/{number}$"))
    assert accessibility_violations(page) == []


def test_a_page_whose_stream_is_refused_for_a_while_takes_it_up_again_and_misses_nothing(
        app, client, tokens, page, monkeypatch):
    from app.live.streams import LIMITS

    limits = app.extensions[LIMITS]
    number = escalate(client, tokens)
    monkeypatch.setitem(app.config, "SR_EVENTS_MAX_SECONDS", 2)  # the browser reconnects every 2 s
    page.add_init_script("window.liveRetrySeconds = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];")
    sign_in(page, "engineer")
    page.goto(f"/srs/{number}")
    status = page.get_by_role("region", name="Service request").locator('[data-field="status"]')
    mark_page(page)
    assert move(client, tokens["gtac"], number, "assigned").status_code == 200
    expect(status).to_have_text("assigned", timeout=LIVE_MS)
    # Then the engineer holds too many streams elsewhere: the page's reconnection is refused.
    monkeypatch.setattr(limits, "per_user", 0)
    notice = page.get_by_role("status").and_(page.locator("#live-stopped"))
    expect(notice).to_contain_text("Live updates on this page are interrupted; trying again", timeout=LIVE_MS)
    assert accessibility_violations(page) == []
    assert move(client, tokens["gtac"], number, "in_progress", note="Reading your logs").status_code == 200
    monkeypatch.setattr(limits, "per_user", 5)
    expect(page.locator("#live-stopped")).to_have_count(0, timeout=LIVE_MS)
    expect(status).to_have_text("in progress", timeout=LIVE_MS)
    # Taken up after the last event the page had, each change shows once: as a reload shows the timeline.
    fresh = page.context.new_page()
    fresh.goto(f"/srs/{number}")
    drawn = fresh.locator("#timeline li").all_inner_texts()
    fresh.close()
    expect(page.locator("#timeline li")).to_have_count(len(drawn))
    assert [entry.split(" · ", 1)[1] for entry in page.locator("#timeline li").all_inner_texts()] == [
        entry.split(" · ", 1)[1] for entry in drawn]
    assert still_same_page(page)


def test_gtac_queue_page_orders_by_urgency_and_updates_live(app, client, tokens, page):
    later = make_sr(app, "new", severity="S3")
    sooner = make_sr(app, "new", severity="S1")
    sign_in(page, "gtac")
    # Wait for the feed to answer, which it does once subscribed.
    with page.expect_response(lambda answer: "/srs/feed?" in answer.url):
        page.goto("/srs")
    expect(page.get_by_role("heading", level=1)).to_have_text("GTAC queues")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(sooner)
    expect(rows.nth(1)).to_contain_text(later)
    mark_page(page)
    assert move(client, tokens["manager"], later, "assigned").status_code == 200
    row = page.locator(f'tr[data-sr="{later}"]')
    expect(row.locator('[data-field="status"]')).to_have_text("assigned", timeout=LIVE_MS)
    expect(row.locator('[data-field="assignee"]')).to_have_text("Max Manager")
    # A case escalated now shows up on the open queue page.
    fresh = escalate(client, tokens)
    expect(page.locator(f'tr[data-sr="{fresh}"]')).to_be_visible(timeout=LIVE_MS)
    assert still_same_page(page)


def test_a_manager_on_a_phone_picks_an_engineer_and_sees_only_their_srs(app, client, tokens, phone):
    graces = make_sr(app, "assigned", assignee_email="gtac@vendor.example")
    make_sr(app, "in_progress", assignee_email="manager@vendor.example")
    make_sr(app, "new")
    sign_in(phone, "manager")
    phone.goto("/srs")
    rows = phone.locator("tbody tr")
    expect(rows).to_have_count(3)
    assert accessibility_violations(phone) + overflow(phone) == []
    phone.get_by_label("Engineer").select_option(label="Grace GTAC")
    phone.get_by_label("Order").select_option(label="Newest first")
    with phone.expect_response(lambda answer: "/srs/feed?" in answer.url):
        phone.get_by_role("button", name="Show").click()
    # An SR opened now is nobody's yet: the list, narrowed to Grace's, is drawn again without it.
    with phone.expect_response(lambda answer: "/srs?" in answer.url and "assignee_id" in answer.url):
        escalate(client, tokens)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(graces)
    expect(rows.first.locator('[data-field="assignee"]')).to_have_text("Grace GTAC")
    expect(phone.get_by_label("Engineer").locator("option:checked")).to_have_text("Grace GTAC")
    assert accessibility_violations(phone) + overflow(phone) == []


def test_a_queue_page_narrowed_to_one_engineer_follows_srs_given_to_them_or_taken_away(app, client, tokens, page):
    graces = make_sr(app, "assigned", assignee_email="gtac@vendor.example")
    maxs = make_sr(app, "assigned", assignee_email="manager@vendor.example")
    grace, max_manager = user_id(app, "gtac@vendor.example"), user_id(app, "manager@vendor.example")
    sign_in(page, "manager")
    with page.expect_response(lambda answer: "/srs/feed?" in answer.url):
        page.goto(f"/srs?assignee_id={grace}")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(graces)
    mark_page(page)

    def give(number, to):
        answer = client.post(f"/api/v1/srs/{number}/assignment", json={"assignee_id": to}, headers=tokens["manager"])
        assert answer.status_code == 200, answer.json

    give(maxs, grace)
    expect(page.locator(f'tr.changed[data-sr="{maxs}"]')).to_be_visible(timeout=LIVE_MS)  # marked: it came in
    give(graces, max_manager)
    expect(page.locator(f'tr[data-sr="{graces}"]')).to_have_count(0, timeout=LIVE_MS)
    expect(rows).to_have_count(1)
    expect(rows.first.locator('[data-field="assignee"]')).to_have_text("Grace GTAC")
    assert still_same_page(page)


def test_the_queue_page_shows_what_changed_between_its_load_and_its_feeds_connection(app, client, tokens, page):
    number = make_sr(app, "new")
    sign_in(page, "gtac")
    with streams_held(page, "**/srs/feed*") as held:
        page.goto("/srs")
        row = page.locator(f'tr[data-sr="{number}"]')
        expect(row.locator('[data-field="status"]')).to_have_text("new")
        mark_page(page)
        wait_for_streams(page, held)
        assert move(client, tokens["manager"], number, "assigned").status_code == 200
    shows_assigned_without_reload(page, row)


def test_a_move_made_just_before_the_queue_page_read_its_rows_is_not_announced_again(app, client, tokens, page):
    number = make_sr(app, "new")
    assert move(client, tokens["manager"], number, "assigned").status_code == 200
    sign_in(page, "gtac")
    # The feed's first connection sends the move again (it is within seconds of the page's read).
    with page.expect_response(lambda answer: "/srs/feed?" in answer.url):
        page.goto("/srs")
    row = page.locator(f'tr[data-sr="{number}"]')
    expect(row.locator('[data-field="status"]')).to_have_text("assigned")
    with app.app_context():  # the demo has no other SR: the first connection sends each entry of this one
        entries = db.session.scalar(sa.select(sa.func.count()).select_from(SRHistory))
        db.session.remove()
    expect(page.locator("html")).to_have_attribute("data-live-events", str(entries))
    expect(page.locator("#live")).to_be_empty()
    expect(row).not_to_have_class("changed")


def test_the_queue_page_catches_up_with_what_changed_while_its_feed_reconnected(
        app, client, tokens, page, monkeypatch):
    number = make_sr(app, "new")
    # Streams end after a second here, so the page's feed reconnects (2 s later) within the test.
    monkeypatch.setitem(app.config, "SR_EVENTS_MAX_SECONDS", 1)
    sign_in(page, "gtac")
    with page.expect_response(lambda answer: "/srs/feed?" in answer.url):
        page.goto("/srs")
    row = page.locator(f'tr[data-sr="{number}"]')
    expect(row.locator('[data-field="status"]')).to_have_text("new")
    mark_page(page)
    with streams_held(page, "**/srs/feed*") as held:
        wait_for_streams(page, held)  # the first stream has ended; the browser asks again
        # No stream of the page is subscribed while this happens.
        assert move(client, tokens["manager"], number, "assigned").status_code == 200
    shows_assigned_without_reload(page, row)


def test_gtac_works_an_sr_from_its_page(app, client, tokens, page):
    number = make_sr(app, "new")
    sign_in(page, "gtac")
    page.goto(f"/srs/{number}")
    page.get_by_role("button", name="Take").click()
    page.wait_for_load_state()
    expect(page.get_by_role("status").first).to_contain_text(f"SR {number} is now assigned")
    page.get_by_role("button", name="Work on it").click()
    page.wait_for_load_state()
    page.get_by_label("Solution kind").select_option("workaround")
    page.get_by_label("Solution", exact=True).fill("Set the port speed to 10G fixed.")
    page.get_by_role("button", name="Provide the solution").click()
    page.wait_for_load_state()
    details = page.get_by_role("region", name="Service request")
    expect(details.locator('[data-field="status"]')).to_have_text("solution provided")
    expect(page.get_by_role("region", name="Solutions")).to_contain_text("Set the port speed to 10G fixed.")


def test_manager_dashboard_shows_queues_breaches_and_the_flow_chart(app, client, tokens, page, clock):
    make_sr(app, "new", severity="S1")
    make_sr(app, "in_progress", severity="S2", queue="Fabric-Global")
    done = make_sr(app, "solution_provided", severity="S3")
    assert move(client, tokens["engineer"], done, "closed").status_code == 200
    clock.advance(hours=2)  # the S1 is now past its 1 h response target
    sign_in(page, "manager")
    page.goto("/gtac/dashboard")
    exos = page.locator('tr[data-queue="EXOS-EMEA"]')
    expect(exos.locator('[data-field="open"]')).to_have_text("1")
    expect(exos.locator('[data-field="breached"]')).to_have_text("1")
    expect(exos.locator('[data-field="breaches_today"]')).to_have_text("1")
    expect(page.locator('tr[data-queue="All queues"] [data-field="open"]')).to_have_text("2")
    chart = page.get_by_role("img", name="SRs opened (dark) and closed (light) per day over the last 30 days; peak 3 a day.")
    expect(chart).to_be_visible()
    page.get_by_text("The figures").click()
    expect(page.locator("#flow-table tbody tr").last).to_contain_text("3")
    # Engineers have no dashboard.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    sign_in(page, "gtac")
    assert page.goto("/gtac/dashboard").status == 403


def test_partner_sees_a_file_gtac_adds_through_the_api_without_reloading(app, client, tokens, page):
    number = escalate(client, tokens)
    sign_in(page, "engineer")
    page.goto(f"/srs/{number}")
    mark_page(page)
    added = client.post(f"/api/v1/srs/{number}/attachments", headers=tokens["gtac"],
                        data={"kind": "other", "file": (io.BytesIO(b"set debug on\n"), "debug-steps.txt")})
    assert added.status_code == 201, added.json
    expect(page.locator("#timeline li").first).to_contain_text("file debug-steps.txt", timeout=LIVE_MS)
    assert still_same_page(page)


def _overlapping_labels(page) -> list[str]:
    boxes = page.eval_on_selector_all(
        "svg.chart text.label", "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return {text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })")
    dates = [b for b in boxes if not b["text"].isdigit()]
    return [f"{a['text']} / {b['text']}" for a, b in zip(dates, dates[1:])
            if a["right"] > b["left"] and a["bottom"] > b["top"] and b["bottom"] > a["top"]]


@pytest.mark.parametrize("width", [390, 1280])
def test_the_flow_charts_date_labels_never_overlap(app, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "manager")
    page.goto("/gtac/dashboard")
    expect(page.locator("svg.chart text.label").first).to_be_visible()
    assert page.locator("svg.chart text.label").count() >= 4  # the first day, the last and weeks between
    assert _overlapping_labels(page) == []


def test_after_a_refused_form_the_sr_pages_reload_link_leads_to_the_sr(app, client, tokens, page):
    number = escalate(client, tokens)
    sign_in(page, "gtac")
    page.goto(f"/srs/{number}")
    page.get_by_label("Message to the partner").fill("   ")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check the form")
    assert page.url.endswith(f"/srs/{number}/messages")  # drawn at the form's address
    assert move(client, tokens["manager"], number, "assigned").status_code == 200
    # The SR moved on: the link to its actions now leads to the SR, not to the form's address (a 405).
    expect(page.locator("#actions .stale a")).to_have_attribute("href", re.compile(rf"/srs/{number}$"))
