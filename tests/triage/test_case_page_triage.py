"""The case page's known-anomaly panel: findings with why they were suggested, weaker matches collapsed."""
import re

from tests.triage.helpers import attach_scanned_log, open_case
from tests.web.helpers import sign_in, text

MULTICAST = {"title": "Stack unit restarts when many multicast groups join",
             "description": "Slot 3 of the X465 stack reloads daily when IGMP snooping has thousands of groups."}


def _panel(browser, case_id) -> str:
    html = text(browser.get(f"/cases/{case_id}"))
    start = html.index('id="triage"')
    return html[start:html.index("</section>", start)]


def test_a_finding_says_how_sure_and_why_and_weaker_matches_are_collapsed(app, client, tokens):
    case = open_case(client, tokens["engineer"], **MULTICAST)
    report = client.get(f"/api/v1/cases/{case['id']}/triage", headers=tokens["engineer"]).json
    findings = [a for a in report["anomalies"] if a["finding"]]
    weaker = [a for a in report["anomalies"] if not a["finding"]]
    assert [a["anomaly_id"] for a in findings] == ["EXOS-31207"] and weaker

    browser = app.test_client()
    sign_in(browser, "engineer")
    panel = _panel(browser, case["id"])
    found, _, collapsed = panel.partition('<details class="weaker">')
    item = re.search(r'<li id="suggestion-EXOS-31207".*?</li>', found, re.S).group(0)
    assert f"{int(findings[0]['confidence'] * 100)}% confidence" in item and "fixed in" in item
    assert "Shares:" in item and "IGMP" in item and "snooping" in item
    # The rest are there for reference, inside a collapsed <details>, none of them asking for a ruling.
    assert f"Weaker matches ({len(weaker)})" in collapsed
    for anomaly in weaker:
        assert f'id="suggestion-{anomaly["anomaly_id"]}"' in collapsed
        assert f'id="suggestion-{anomaly["anomaly_id"]}"' not in found
    assert report["rulings"]["needed"] == ["EXOS-31207"]


def test_a_case_nothing_known_matches_says_so(app, client, tokens):
    case = open_case(client, tokens["engineer"], title="How do I configure a second syslog server?",
                     description="The customer would like to send logs to two remote syslog servers. "
                                 "Is there a configuration guide?")
    report = client.get(f"/api/v1/cases/{case['id']}/triage", headers=tokens["engineer"]).json
    assert report["anomalies"] and not any(a["finding"] for a in report["anomalies"])
    assert report["rulings"] == {"needed": [], "complete": True,
                                 "reason": "No known anomaly of this product and version matches confidently "
                                           "enough to need a ruling."}
    browser = app.test_client()
    sign_in(browser, "engineer")
    panel = _panel(browser, case["id"])
    assert "Nothing known matches this case confidently" in panel
    assert '<details class="weaker">' in panel


def test_log_lines_that_matched_are_shown_as_the_log_wrote_them(app, client, tokens, demo):
    case = open_case(client, tokens["engineer"])
    attach_scanned_log(app, case["id"], demo["engineer"].id)
    browser = app.test_client()
    sign_in(browser, "engineer")
    panel = _panel(browser, case["id"])
    item = re.search(r'<li id="suggestion-EXOS-31207".*?</ul>', panel, re.S).group(0)
    assert "Log lines that match:" in item
    assert "<code>11/22/2026 07:45:31.90 &lt;Crit:EPM.Process.NotResponding&gt; Slot-2: Process mcmgr not responding</code>" in item
    assert "the log and this anomaly both show:</span> restart reason, task hung, watchdog" in item


def test_customers_see_no_triage(app, client, tokens):
    case = open_case(client, tokens["engineer"], **MULTICAST)
    browser = app.test_client()
    sign_in(browser, "customer")
    html = text(browser.get(f"/cases/{case['id']}"))
    assert 'id="triage"' not in html and "EXOS-31207" not in html


def test_the_case_page_ranks_once_however_many_parts_show_triage(app, client, tokens, monkeypatch):
    from app.triage import services

    case = open_case(client, tokens["engineer"], **MULTICAST)
    calls = []
    real = services.rank
    monkeypatch.setattr(services, "rank", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    app.extensions.pop("triage_rankings", None)  # forget the ranking made when the case was opened
    browser = app.test_client()
    sign_in(browser, "engineer")
    calls.clear()
    html = text(browser.get(f"/cases/{case['id']}"))
    # The checklist, its ruling form and the triage panel all show the suggestions; one ranking serves them.
    assert 'id="suggestion-EXOS-31207"' in html and 'name="release_notes_reviewed.ruling:EXOS-31207"' in html
    assert len(calls) == 1
    # Shown again, the case has not changed: the same ranking serves the page.
    assert 'id="suggestion-EXOS-31207"' in text(browser.get(f"/cases/{case['id']}"))
    assert len(calls) == 1


def test_the_case_page_ranks_again_once_a_log_is_scanned(app, client, tokens, demo, monkeypatch):
    from app.triage import services

    case = open_case(client, tokens["engineer"])
    browser = app.test_client()
    sign_in(browser, "engineer")
    before = text(browser.get(f"/cases/{case['id']}"))
    calls = []
    real = services.rank
    monkeypatch.setattr(services, "rank", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    attach_scanned_log(app, case["id"], demo["engineer"].id)
    after = text(browser.get(f"/cases/{case['id']}"))
    assert len(calls) == 1
    assert "Log lines that match:" in after and "Log lines that match:" not in before
