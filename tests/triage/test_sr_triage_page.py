"""GTAC sees the partner's triage on the SR page: each suggested anomaly with the partner's ruling."""
import re

from tests.srs.helpers import escalate
from tests.web.helpers import sign_in, text

MULTICAST = {"serial_number": "ACME-0002", "title": "Stack unit restarts when many multicast groups join",
             "description": "Slot 3 of the X465 stack reloads daily when IGMP snooping has thousands of groups."}


def test_gtac_sees_the_partners_rulings_on_the_sr(app, client, tokens):
    number = escalate(client, tokens, **MULTICAST)  # every suggestion ruled "not relevant"
    triage = client.get(f"/api/v1/srs/{number}", headers=tokens["gtac"]).json
    report = client.get(f"/api/v1/cases/{triage['case_id']}/triage", headers=tokens["gtac"]).json
    ruled = [a["anomaly_id"] for a in report["anomalies"] if a["ruling"]]
    assert "EXOS-31207" in ruled

    browser = app.test_client()
    sign_in(browser, "gtac")
    html = text(browser.get(f"/srs/{number}"))
    section = html[html.index('id="triage"'):html.index('aria-labelledby="thread-h"')]
    assert "Partner&#39;s triage" in section or "Partner's triage" in section
    for anomaly in ruled:
        row = re.search(rf'<tr id="triage-{anomaly}">(.*?)</tr>', section, re.S)
        assert row, anomaly
        assert "not relevant" in row.group(1) and "Nadia Engineer" in row.group(1)
    assert "Every suggested known anomaly has a ruling" in section
    # GTAC sees how sure triage was of each, and the weaker matches folded away.
    top = next(a for a in report["anomalies"] if a["anomaly_id"] == "EXOS-31207")
    row = re.search(r'<tr id="triage-EXOS-31207">(.*?)</tr>', section, re.S).group(1)
    assert f"<td>{int(top['confidence'] * 100)}%</td>" in row
    weaker = [a for a in report["anomalies"] if not a["finding"] and not a["ruling"]]
    assert weaker and f"Weaker matches ({len(weaker)})" in section
    assert all(a["anomaly_id"] in section for a in weaker)
