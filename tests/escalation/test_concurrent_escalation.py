"""Concurrent escalations of one case over real HTTP yield exactly one SR.

CI runs this on PostgreSQL (row lock on the case) and on SQLite (the embedded default,
whose transactions queue for the write lock); neither may answer 500.
"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app.srs.models import ServiceRequest
from app.extensions import db
from tests.case_helpers import complete_checklist, new_case

ROUNDS = 15
CONCURRENCY = 8


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def post(url: str, headers: dict, key: str | None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=b"{}", method="POST",
                                     headers={**headers, "Content-Type": "application/json",
                                              **({"Idempotency-Key": key} if key else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_concurrent_escalations_of_one_case_yield_one_sr(app, client, tokens, live_url):
    headers = tokens["engineer"]
    for round_no in range(ROUNDS):
        case = new_case(client, headers)
        complete_checklist(client, headers, case["id"])
        url = f"{live_url}/api/v1/cases/{case['id']}/escalation"
        # Half the callers retry with one shared key, the others each send their own or none.
        keys = [f"shared-{round_no}" if i % 2 else (f"own-{round_no}-{i}" if i % 4 else None)
                for i in range(CONCURRENCY)]
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            answers = list(pool.map(lambda key: post(url, headers, key), keys))
        created = [body for status, body in answers if status == 201]
        assert created, answers
        assert len({body["sr_number"] for body in created}) == 1, answers
        assert all(status in (201, 409) for status, _ in answers), answers
        refused = [body["error"]["code"] for status, body in answers if status == 409]
        assert set(refused) <= {"already_escalated", "escalation_conflict"}, refused
        with app.app_context():
            numbers = list(db.session.scalars(
                sa.select(ServiceRequest.number).where(ServiceRequest.case_id == case["id"])))
        assert numbers == [created[0]["sr_number"]]
