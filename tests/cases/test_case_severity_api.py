"""Re-rating a case through the API, as its page does: the partner's own open case only, audited."""
from __future__ import annotations

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from tests.api.conftest import assert_error, row_counts  # noqa: F401
from tests.case_helpers import complete_checklist, new_case


def _severity(client, headers, case_id, severity):
    return client.post(f"/api/v1/cases/{case_id}/severity", json={"severity": severity}, headers=headers)


def _changes(app, case_id) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "case.severity_changed", AuditEvent.entity_id == str(case_id)))
        db.session.remove()
    return found


def test_the_partner_re_rates_its_open_case_once_and_the_customer_sees_it(app, client, tokens):
    case = new_case(client, tokens["engineer"], severity="S3")
    answer = _severity(client, tokens["engineer"], case["id"], "S1")
    assert answer.status_code == 200, answer.json
    assert answer.json["severity"] == "S1" and answer.json["id"] == case["id"] and "checklist" in answer.json
    assert client.get(f"/api/v1/cases/{case['id']}", headers=tokens["customer"]).json["severity"] == "S1"
    assert _severity(client, tokens["admin"], case["id"], "S1").status_code == 200  # the same again
    assert _changes(app, case["id"]) == 1


def test_who_may_not_re_rate_and_what_is_refused(app, client, tokens, row_counts):
    case = new_case(client, tokens["engineer"], severity="S3")
    before = row_counts()
    assert_error(_severity(client, tokens["customer"], case["id"], "S1"), 403, "role_not_allowed")
    assert_error(_severity(client, tokens["gtac"], case["id"], "S1"), 403, "role_not_allowed")
    assert_error(_severity(client, tokens["contoso"], case["id"], "S1"), 404, "case_not_found")
    assert_error(_severity(client, tokens["engineer"], case["id"], "S5"), 400, "invalid_input")
    assert_error(client.post(f"/api/v1/cases/{case['id']}/severity", json={}, headers=tokens["engineer"]),
                 400, "invalid_input")
    assert row_counts() == before
    complete_checklist(client, tokens["engineer"], case["id"])
    assert client.post(f"/api/v1/cases/{case['id']}/escalation", json={},
                       headers=tokens["engineer"]).status_code == 201
    error = assert_error(_severity(client, tokens["engineer"], case["id"], "S1"), 422, "case_not_open")
    assert "SR's severity" in error["message"]
