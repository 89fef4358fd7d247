"""The sandbox provider records every payout instruction it receives, with the answer it gave,
refusals included: the record the payments tests read when they assert on what was sent."""
from __future__ import annotations

import requests


def _post(sandbox, app, path, body, key=None, api_key=None):
    headers = {"Authorization": f"Bearer {api_key or app.config['PAYMENTS_SANDBOX_API_KEY']}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return requests.post(sandbox.url + path, json=body, headers=headers, timeout=5)


def test_every_single_payout_request_is_recorded_with_its_answer_refusals_included(sandbox, app):
    sandbox.faults(error_next_creates=1)
    body = {"amount": 500, "currency": "USD", "reference": "K-1"}
    statuses = [_post(sandbox, app, "/v1/payouts", body, key="K-1").status_code for _ in range(3)]
    assert statuses == [503, 201, 200]
    assert _post(sandbox, app, "/v1/payouts", {**body, "amount": 600}, key="K-1").status_code == 409
    assert _post(sandbox, app, "/v1/payouts", body, key="K-2", api_key="wrong").status_code == 401
    assert _post(sandbox, app, "/v1/payouts", body).status_code == 400  # no key at all

    sent = sandbox.attempts()
    assert [(a["idempotency_key"], a["status"]) for a in sent] == [
        ("K-1", 503), ("K-1", 201), ("K-1", 200), ("K-1", 409), ("K-2", 401), ("", 400)]
    assert [a["body"]["amount"] for a in sent] == [500, 500, 500, 600, 500, 500]
    assert sent[0]["answer"]["error"]["code"] == "unavailable"
    assert sent[1]["answer"]["id"] == sent[2]["answer"]["id"]
    assert [a["sequence"] for a in sandbox.attempts("K-1")] == [0, 1, 2, 3]
    assert len(sandbox.state()["payouts"]) == 1
    sandbox.reset()
    assert sandbox.attempts() == []


def test_a_batch_is_recorded_item_by_item_whether_refused_whole_or_answered_per_item(sandbox, app):
    sandbox.faults(error_next_creates=1)
    items = [{"idempotency_key": "B-1", "amount": 100, "currency": "USD"},
             {"idempotency_key": "B-2", "amount": 0, "currency": "USD"}]
    assert _post(sandbox, app, "/v1/payout-batches", {"payouts": items}).status_code == 503
    answer = _post(sandbox, app, "/v1/payout-batches", {"payouts": items})
    assert answer.status_code == 200
    again = _post(sandbox, app, "/v1/payout-batches", {"payouts": items[:1]})
    assert again.status_code == 200

    sent = sandbox.attempts()
    assert [(a["endpoint"], a["idempotency_key"], a["status"]) for a in sent] == [
        ("/v1/payout-batches", "B-1", 503), ("/v1/payout-batches", "B-2", 503),
        ("/v1/payout-batches", "B-1", 201), ("/v1/payout-batches", "B-2", 400),
        ("/v1/payout-batches", "B-1", 200)]
    assert [a["body"] for a in sent[:2]] == items
    assert sent[2]["answer"] == answer.json()["results"][0]
    assert sent[3]["answer"]["error"]["code"] == "invalid_request"
    assert sent[4]["answer"]["payout"]["id"] == sent[2]["answer"]["payout"]["id"]
