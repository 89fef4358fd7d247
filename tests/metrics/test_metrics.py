"""GET /metrics: what an operator's Prometheus reads, and who may read it."""
from __future__ import annotations

import io
import re

import pytest

from tests.case_helpers import new_case, upload
from tests.payments.conftest import Payments
from tests.srs.helpers import escalate

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def scrape(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)

    def scrape() -> str:
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200, answer.data[:300]
        assert answer.content_type.startswith("text/plain")
        return answer.get_data(as_text=True)

    return scrape


def value(text: str, name: str, **labels) -> float:
    """The sample `name{labels}` of a scrape (labels given must all match)."""
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if match and all(f'{key}="{val}"' in (match.group(1) or "") for key, val in labels.items()):
            return float(match.group(2))
    raise AssertionError(f"no sample {name} {labels} in:\n{text[:2000]}")


def _or_zero(text: str, name: str, **labels) -> float:
    try:
        return value(text, name, **labels)
    except AssertionError:  # a labelled histogram has no sample before its first observation
        return 0.0


def test_requests_are_timed_per_endpoint_method_and_status(client, tokens, demo, scrape):
    client.get("/api/v1/cases", headers=tokens["engineer"])
    client.get("/api/v1/cases/999999", headers=tokens["engineer"])
    text = scrape()
    assert value(text, "gtac_http_request_duration_seconds_count",
                 endpoint="cases.list", method="GET", status="200") >= 1
    assert value(text, "gtac_http_request_duration_seconds_count",
                 endpoint="cases.get", method="GET", status="404") >= 1


def test_open_and_breached_srs_per_queue_and_the_outbox_age(app, client, tokens, demo, scrape):
    number = escalate(client, tokens)
    queue = client.get(f"/api/v1/srs/{number}", headers=tokens["gtac"]).json["queue"]
    text = scrape()
    assert value(text, "gtac_srs_open", queue=queue) == 1
    assert value(text, "gtac_srs_breached", queue=queue) == 0
    assert value(text, "gtac_outbox_oldest_unprocessed_seconds") >= 0


def test_payouts_per_state_and_the_prefunding_balance(app, client, tokens, demo, scrape):
    payments = Payments(client, tokens, app)
    before = value(scrape(), "gtac_prefunding_available_minor", currency="USD")
    payments.fund(12_345, "metrics-deposit")
    assert value(scrape(), "gtac_prefunding_available_minor", currency="USD") == before + 12_345


def test_statement_imports_and_log_scans_are_timed(app, client, tokens, demo, scrape):
    before = scrape()
    case = new_case(client, tokens["engineer"])
    assert upload(client, tokens["engineer"], case["id"]).status_code == 201  # scanned right after the commit
    answer = client.post("/api/v1/reconciliation/statements", headers=tokens["programs"],
                         data={"file": (io.BytesIO(b"reference,provider_payout_id,amount,currency,status\n"), "statement.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 201, answer.json
    after = scrape()
    assert (value(after, "gtac_log_scan_duration_seconds_count")
            == value(before, "gtac_log_scan_duration_seconds_count") + 1)
    assert (value(after, "gtac_import_duration_seconds_count", kind="statement")
            == _or_zero(before, "gtac_import_duration_seconds_count", kind="statement") + 1)


def test_without_the_token_the_metrics_are_refused(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = client.get("/metrics", headers=headers)
        assert answer.status_code == 403
        assert answer.json["error"]["code"] == "metrics_forbidden"


def test_without_a_token_set_only_this_machine_may_read_them_and_never_in_production(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", None)
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    monkeypatch.setitem(app.config, "GTAC_ENV", "production")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403
