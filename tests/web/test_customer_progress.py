"""The customer follows its case at GTAC: the SR number, customer-safe stages and what the partner
relays; never a word of GTAC's own thread, notes or solutions."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import assert_usable, sign_in
from tests.srs.helpers import escalate, get_sr, move
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
