"""The customer follows its case at GTAC: the SR number, customer-safe stages and what the partner
relays; never a word of GTAC's own thread, notes or solutions."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from app.live.limits import StreamLimiter
from app.live.streams import LIMITS
from tests.browser import assert_usable, open_page, sign_in, streams_held, wait_for_streams
from tests.case_helpers import complete_checklist, new_case
from tests.srs.helpers import escalate, get_sr, move, user_id
from tests.web.helpers import sign_in as sign_in_client
from tests.web.helpers import text

pytestmark = pytest.mark.browser

GTAC_WORDS = ("Suspect the ASIC errata on this board", "Pulling the core dump now",
              "Load debug image 32.6.1.4-p1", "Grace GTAC")
RELAYED = "GTAC has the case; we expect their next update by Friday."


def worked_at_gtac(client, tokens) -> tuple[str, int]:
    """An Acme case escalated by Northwind, worked by GTAC up to a solution, with GTAC's words on its thread."""
    number = escalate(client, tokens, title="Core switch reboots at night")
    case_id = get_sr(client, tokens["gtac"], number)["case_id"]
    assert move(client, tokens["gtac"], number, "assigned").status_code == 200
    assert move(client, tokens["gtac"], number, "in_progress", note=GTAC_WORDS[1]).status_code == 200
    posted = client.post(f"/api/v1/srs/{number}/messages", json={"body": GTAC_WORDS[0]}, headers=tokens["gtac"])
    assert posted.status_code == 201, posted.json
    relayed = client.post(f"/api/v1/cases/{case_id}/messages", json={"channel": "customer", "body": RELAYED},
                          headers=tokens["engineer"])
    assert relayed.status_code == 201, relayed.json
    solved = move(client, tokens["gtac"], number, "solution_provided",
                  solution={"kind": "patch", "content": GTAC_WORDS[2]})
    assert solved.status_code == 200, solved.json
    return number, case_id


def test_the_customer_sees_the_sr_number_stages_and_the_partners_words_only(app, client, tokens, page):
    number, case_id = worked_at_gtac(client, tokens)
    sign_in(page, "customer")
    page.goto("/my/cases")
    page.get_by_role("link", name=f"Progress of case #{case_id}").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case #{case_id}: Core switch reboots at night")
    progress = page.get_by_role("region", name="Progress")
    expect(progress.locator("#sr-number")).to_have_text(number)
    expect(progress.locator("#current-stage")).to_have_text("Solution provided")
    expect(progress.locator("[aria-current=step]")).to_contain_text("Solution provided")
    expect(progress.locator(".stage-history li")).to_have_count(3)  # opened, with GTAC, solution provided
    expect(progress.locator(".stages li.ahead")).to_have_text(["Closed not yet"], use_inner_text=True)
    expect(page.get_by_role("region", name="Messages with your partner")).to_contain_text(RELAYED)
    html = page.content()
    for words in GTAC_WORDS:
        assert words not in html
    assert_usable(page, "the customer's progress page")


def test_gtacs_messages_never_reach_the_customers_progress_page(app, client, tokens):
    number, case_id = worked_at_gtac(client, tokens)
    sign_in_client(client, "customer")
    shown = client.get(f"/my/cases/{case_id}/progress")
    assert shown.status_code == 200
    html = text(shown)
    assert number in html and RELAYED in html
    for words in GTAC_WORDS:
        assert words not in html


def test_no_one_else_reads_a_customers_progress_page(app, client, tokens):
    _, case_id = worked_at_gtac(client, tokens)
    sign_in_client(client, "fabrikam")  # another customer: the case does not exist
    assert client.get(f"/my/cases/{case_id}/progress").status_code == 404
    client.post("/logout")
    for who, status in (("engineer", 403), ("gtac", 403)):
        other = app.test_client()
        sign_in_client(other, who)
        assert other.get(f"/my/cases/{case_id}/progress").status_code == status, who


def stream_events(body: str) -> list[dict]:
    """The events of a finished server-sent event stream, as (name, data) pairs decoded."""
    found = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in lines:
            found.append({"event": lines["event"], **json.loads(lines["data"])})
    return found


def test_the_customers_stream_says_only_the_stage_and_when(app, client, tokens, monkeypatch):
    monkeypatch.setitem(app.config, "SR_EVENTS_MAX_SECONDS", 0)  # the backlog, then the stream ends
    number, case_id = worked_at_gtac(client, tokens)
    sign_in_client(client, "customer")

    answer = client.get(f"/my/cases/{case_id}/progress/events?after=0")

    assert answer.status_code == 200 and answer.mimetype == "text/event-stream"
    body = answer.get_data(as_text=True)
    events = stream_events(body)
    assert [(e["event"], e["stage"]) for e in events] == [
        ("progress", "With GTAC"), ("progress", "With GTAC"), ("progress", "With GTAC"),
        ("progress", "Solution provided")]  # opened, assigned, in progress, solution provided
    assert all(set(e) == {"event", "id", "kind", "sr_number", "stage", "at"} for e in events)
    assert all(e["sr_number"] == number for e in events)
    for words in (*GTAC_WORDS, "solution_provided", "in_progress", "patch"):
        assert words not in body


def test_only_the_cases_customer_hears_its_stream(app, client, tokens, monkeypatch):
    monkeypatch.setitem(app.config, "SR_EVENTS_MAX_SECONDS", 0)
    _, case_id = worked_at_gtac(client, tokens)
    for who, status in (("fabrikam", 404), ("engineer", 403), ("gtac", 403), ("customer", 200)):
        other = app.test_client()
        sign_in_client(other, who)
        assert other.get(f"/my/cases/{case_id}/progress/events").status_code == status, who


def test_the_customers_case_page_shows_the_sr_number_and_leads_to_its_progress(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    sign_in_client(client, "customer")
    assert 'id="sr-progress-link"' not in text(client.get(f"/cases/{case['id']}"))  # not escalated yet

    number = escalate_case(client, tokens, case["id"])
    html = text(client.get(f"/cases/{case['id']}"))
    box = re.search(r'<section class="card sr-banner" id="sr".*?</section>', html, re.S).group(0)
    assert f'<span class="mono" id="sr-number">{number}</span>' in box
    assert f'href="/my/cases/{case["id"]}/progress" id="sr-progress-link">Follow its progress</a>' in box
    assert '<strong id="sr-stage">With GTAC</strong>' in box
    assert f'data-live-events="/my/cases/{case["id"]}/progress/events"' in box
    assert "/srs/" not in box  # GTAC's own SR page is not the customer's


def escalate_case(client, tokens, case_id) -> str:
    complete_checklist(client, tokens["engineer"], case_id)
    answer = client.post(f"/api/v1/cases/{case_id}/escalation", json={}, headers=tokens["engineer"])
    assert answer.status_code == 201, answer.json
    return answer.json["sr_number"]


def test_gtac_moves_and_the_partners_words_reach_the_customers_open_pages_without_a_reload(app, client, tokens, browser, live_server,
                                                                      demo):
    number = escalate(client, tokens, title="Core switch reboots at night")
    case_id = get_sr(client, tokens["gtac"], number)["case_id"]
    with open_page(browser, live_server) as progress_page, open_page(browser, live_server) as case_page:
        sign_in(progress_page, "customer")
        progress_page.goto(f"/my/cases/{case_id}/progress")
        sign_in(case_page, "customer")
        case_page.goto(f"/cases/{case_id}")
        for tab in (progress_page, case_page):
            tab.wait_for_load_state()
            tab.evaluate("window.stillTheSamePage = true")
        expect(progress_page.locator("#current-stage")).to_have_text("With GTAC")

        assert move(client, tokens["gtac"], number, "assigned").status_code == 200
        assert move(client, tokens["gtac"], number, "in_progress", note=GTAC_WORDS[1]).status_code == 200
        solved = move(client, tokens["gtac"], number, "solution_provided",
                      solution={"kind": "patch", "content": GTAC_WORDS[2]})
        assert solved.status_code == 200, solved.json

        expect(progress_page.locator("#current-stage")).to_have_text("Solution provided")
        expect(progress_page.locator("[aria-current=step]")).to_contain_text("Solution provided")
        expect(progress_page.locator("#live-said")).to_have_text("Now: Solution provided")
        expect(case_page.locator("#sr-stage")).to_have_text("Solution provided")

        # GTAC writes on its own thread: nothing reaches the customer. The partner relays: it shows.
        gtac_said = client.post(f"/api/v1/srs/{number}/messages", json={"body": GTAC_WORDS[0]},
                                headers=tokens["gtac"])
        assert gtac_said.status_code == 201, gtac_said.json
        relayed = client.post(f"/api/v1/cases/{case_id}/messages", json={"channel": "customer", "body": RELAYED},
                              headers=tokens["engineer"])
        assert relayed.status_code == 201, relayed.json
        expect(progress_page.get_by_role("region", name="Messages with your partner")).to_contain_text(RELAYED)
        for tab in (progress_page, case_page):
            assert tab.evaluate("window.stillTheSamePage") is True
            html = tab.content()
            for words in GTAC_WORDS:
                assert words not in html
        assert_usable(progress_page, "the customer's progress page, updated live")
        assert_usable(case_page, "the customer's case page, updated live")


def test_the_customers_stream_counts_against_the_stream_caps(app, client, tokens, monkeypatch):
    _, case_id = worked_at_gtac(client, tokens)
    monkeypatch.setitem(app.config, "SR_EVENTS_MAX_SECONDS", 0)
    limiter = StreamLimiter(per_user=1, per_process=16, max_seconds=60)
    monkeypatch.setitem(app.extensions, LIMITS, limiter)
    sign_in_client(client, "customer")
    held = limiter.acquire(user_id(app, "customer@acme.example"))  # another tab's stream

    refused = client.get(f"/my/cases/{case_id}/progress/events")
    assert refused.status_code == 429
    assert limiter.open_streams == 1  # the refused stream holds nothing

    held.release()
    answer = client.get(f"/my/cases/{case_id}/progress/events")
    assert answer.status_code == 200
    answer.get_data()  # the stream runs to its end, and gives its slot back
    assert limiter.open_streams == 0


def test_what_gtac_does_while_the_customers_pages_load_still_reaches_them(app, client, tokens, browser, live_server,
                                                                          demo):
    number = escalate(client, tokens, title="Core switch reboots at night")
    case_id = get_sr(client, tokens["gtac"], number)["case_id"]
    assert move(client, tokens["gtac"], number, "assigned").status_code == 200
    assert move(client, tokens["gtac"], number, "in_progress").status_code == 200
    with open_page(browser, live_server) as progress_page, open_page(browser, live_server) as case_page:
        tabs = {progress_page: (f"/my/cases/{case_id}/progress", "#current-stage"),
                case_page: (f"/cases/{case_id}", "#sr-stage")}
        for tab in tabs:
            sign_in(tab, "customer")
        with streams_held(progress_page) as on_progress, streams_held(case_page) as on_case:
            for (tab, (path, stage)), held in zip(tabs.items(), (on_progress, on_case)):
                tab.goto(path)
                tab.wait_for_load_state()
                expect(tab.locator(stage)).to_have_text("With GTAC")
                wait_for_streams(tab, held)
            # Both pages drawn, their streams not yet connected: GTAC provides its solution now.
            solved = move(client, tokens["gtac"], number, "solution_provided",
                          solution={"kind": "patch", "content": GTAC_WORDS[2]})
            assert solved.status_code == 200, solved.json
        for tab, (_, stage) in tabs.items():
            expect(tab.locator(stage)).to_have_text("Solution provided")
