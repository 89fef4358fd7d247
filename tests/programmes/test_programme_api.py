"""The programmes API: close into claims once, bulk approval through payments, bad input changes nothing."""
from __future__ import annotations

import io
import logging

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent

from app.extensions import db
from tests.api.conftest import assert_error
from tests.programmes.helpers import HEADER

pytestmark = pytest.mark.usefixtures("demo")


def programme(client, tokens, name="Volume Rebate"):
    made = client.post("/api/v1/programmes", headers=tokens["programs"], json={
        "name": name, "currency": "USD", "baseline_target": 10_000_000})
    assert made.status_code == 201, made.json
    period = client.post(f"/api/v1/programmes/{made.json['id']}/periods", headers=tokens["programs"],
                         json={"label": "2025-Q3", "starts_on": "2025-07-01", "ends_on": "2025-09-30"})
    assert period.status_code == 201, period.json
    return made.json["id"], period.json["id"]


def upload(client, tokens, text: str, who="programs", **query):
    return client.post("/api/v1/programmes/sales", headers=tokens[who], query_string=query,
                       data={"file": (io.BytesIO(text.encode()), "q3.csv")}, content_type="multipart/form-data")


def test_close_creates_one_submitted_rebate_claim_per_earning_partner_and_never_a_second(client, tokens):
    programme_id, period_id = programme(client, tokens)
    answer = upload(client, tokens, "\n".join([HEADER, "Northwind Networks,INV-1,2025-08-01,EXOS,120000.00,USD",
                                                "Contoso Integrators,INV-2,2025-08-01,VOSS,50000.00,USD"]))
    assert answer.status_code == 200, answer.json
    close = f"/api/v1/programmes/{programme_id}/periods/{period_id}/close"
    first = client.post(close, headers=tokens["programs"])
    assert first.status_code == 200, first.json
    earning = [s for s in first.json["items"] if s["claim_id"]]
    assert [(s["partner"]["name"], s["rebate"]) for s in earning] == [("Northwind Networks", 480_000)]
    again = client.post(close, headers=tokens["programs"])
    assert again.json["closed_now"] is False
    assert [s["claim_id"] for s in again.json["items"]] == [s["claim_id"] for s in first.json["items"]]
    claim = client.get(f"/api/v1/claims/{earning[0]['claim_id']}", headers=tokens["admin"]).json
    assert (claim["type"], claim["status"], claim["amount"], claim["period"]) == ("rebate", "submitted", 480_000,
                                                                                 "2025-Q3")


@pytest.mark.parametrize("line, reason", [
    ("Nobody Ltd,INV-9,2025-08-01,EXOS,1.00,USD", "unknown partner 'Nobody Ltd'"),
    ("Northwind Networks,INV-9,2025-08-01,EXOS,-1.00,USD", "negative amount '-1.00'"),
    ("Northwind Networks,INV-9,2025-08-01,EXOS,ten,USD", "amount 'ten' is not a decimal number"),
    ("Northwind Networks,INV-9,2025-08-01,EXOS,1.00,ABC", "unknown currency 'ABC'"),
    ("Northwind Networks,INV-9,2024-01-01,EXOS,1.00,USD", "date 2024-01-01 is outside every programme period"),
])
def test_a_bad_sales_line_is_a_422_naming_it_and_nothing_is_imported(client, tokens, row_counts, line, reason):
    programme(client, tokens)
    before = row_counts()
    answer = upload(client, tokens, "\n".join([HEADER, "Northwind Networks,INV-1,2025-08-01,EXOS,1.00,USD", line]))
    error = assert_error(answer, 422, "bad_sales_lines")
    assert error["details"]["lines"] == [f"q3.csv:3: {reason}"]
    assert row_counts() == before


def test_a_quarter_the_programme_has_already_is_refused(client, tokens, row_counts):
    programme_id, _ = programme(client, tokens)
    before = row_counts()
    answer = client.post(f"/api/v1/programmes/{programme_id}/periods", headers=tokens["programs"],
                         json={"label": "2025-Q3", "starts_on": "2025-07-01", "ends_on": "2025-09-30"})
    assert_error(answer, 409, "period_overlaps")
    assert row_counts() == before


@pytest.mark.parametrize("label, starts_on, ends_on, wrong", [
    ("2025-Q4", "2025-09-15", "2025-12-31", {"starts_on": ["2025-Q4 starts on 2025-10-01."]}),
    ("2026-Q1", "2026-10-01", "2026-12-31", {"starts_on": ["2026-Q1 starts on 2026-01-01."],
                                             "ends_on": ["2026-Q1 ends on 2026-03-31."]}),
    ("2026-Q4", "2026-10-01", "2027-01-10", {"ends_on": ["2026-Q4 ends on 2026-12-31."]}),
])
def test_a_period_whose_days_are_not_its_quarters_is_refused(client, tokens, row_counts, label, starts_on, ends_on,
                                                              wrong):
    # Closing files the period's rebate claims under its label: 2026-Q1 must be January to March.
    programme_id, _ = programme(client, tokens)
    before = row_counts()
    answer = client.post(f"/api/v1/programmes/{programme_id}/periods", headers=tokens["programs"],
                         json={"label": label, "starts_on": starts_on, "ends_on": ends_on})
    error = assert_error(answer, 400, "invalid_input")
    assert error["details"]["fields"] == wrong
    assert row_counts() == before


def test_a_new_sale_dated_in_a_closed_period_is_a_bad_line_and_a_known_one_is_unchanged(client, tokens,
                                                                                        row_counts):
    programme_id, period_id = programme(client, tokens)
    known = "Northwind Networks,INV-1,2025-08-01,EXOS,120000.00,USD"
    assert upload(client, tokens, "\n".join([HEADER, known])).status_code == 200
    client.post(f"/api/v1/programmes/{programme_id}/periods/{period_id}/close", headers=tokens["programs"])
    before = row_counts()
    late = upload(client, tokens, "\n".join([HEADER, known, "Northwind Networks,INV-2,2025-09-30,EXOS,1.00,USD"]))
    error = assert_error(late, 422, "bad_sales_lines")
    assert error["details"]["lines"] == ["q3.csv:3: Volume Rebate 2025-Q3 is closed and its rebates claimed: "
                                         "a new sale dated 2025-09-30 cannot count in it"]
    assert row_counts() == before
    again = upload(client, tokens, "\n".join([HEADER, known]))  # the weekly file, sent again after the close
    assert again.status_code == 200 and again.json["unchanged"] == 1 and again.json["created"] == 0


def test_a_sale_still_counting_in_another_programmes_open_quarter_is_taken_and_leaves_the_closed_one_as_settled(
        client, tokens):
    programme_id, period_id = programme(client, tokens)
    services_id, services_period_id = programme(client, tokens, name="Services Rebate")  # the same quarter, open
    assert upload(client, tokens, "\n".join([HEADER, "Northwind Networks,INV-1,2025-08-01,EXOS,120000.00,USD"])
                  ).status_code == 200
    closed = f"/api/v1/programmes/{programme_id}/periods/{period_id}"
    settled = client.post(f"{closed}/close", headers=tokens["programs"]).json["items"]
    taken = upload(client, tokens, "\n".join([HEADER, "Northwind Networks,INV-2,2025-09-30,EXOS,30000.00,USD"]))
    assert taken.status_code == 200 and taken.json["created"] == 1, taken.json

    def figures(base, partner_id):
        answer = client.get(f"{base}/partners/{partner_id}/attainment", headers=tokens["programs"])
        assert answer.status_code == 200, answer.json
        return answer.json["sales"], answer.json["rebate"], sum(s["sales"] for s in answer.json["segments"])

    northwind = next(s for s in settled if s["partner"]["name"] == "Northwind Networks")
    assert (northwind["sales"], northwind["rebate"]) == (12_000_000, 480_000)
    assert figures(closed, northwind["partner"]["id"]) == (12_000_000, 480_000, 12_000_000)
    listed = client.get(f"{closed}/attainment", headers=tokens["programs"]).json["items"]
    assert [row["sales"] for row in listed if row["partner"]["name"] == "Northwind Networks"] == [12_000_000]
    still_open = f"/api/v1/programmes/{services_id}/periods/{services_period_id}"
    assert figures(still_open, northwind["partner"]["id"])[0] == 15_000_000


def test_an_alleviation_dated_in_a_closed_period_is_refused(client, tokens, row_counts):
    programme_id, period_id = programme(client, tokens)
    client.post(f"/api/v1/programmes/{programme_id}/periods/{period_id}/close", headers=tokens["programs"])
    before = row_counts()
    body = {"effective_from": "2025-09-01", "reduction_bp": 1000, "reason": "Too late"}
    assert_error(client.post(f"/api/v1/programmes/{programme_id}/alleviations", headers=tokens["programs"],
                             json=body), 422, "period_closed")
    assert row_counts() == before


def test_an_alleviation_is_previewed_then_applied_audited_and_told_to_the_partners(client, tokens, caplog):
    programme_id, period_id = programme(client, tokens)
    cut = {"effective_from": "2025-08-01", "reduction_bp": 2000, "region": "EMEA"}
    preview = client.post(f"/api/v1/programmes/{programme_id}/alleviations/preview", headers=tokens["programs"],
                          json=cut).json
    assert [(r["partner"]["name"], r["old_target"], r["new_target"]) for r in preview["rows"]] == [
        ("Northwind Networks", 10_000_000, 8_000_000)]
    with caplog.at_level(logging.INFO, logger="app.notifications.mail"):
        applied = client.post(f"/api/v1/programmes/{programme_id}/alleviations", headers=tokens["programs"],
                              json={**cut, "reason": "Shortage", "preview_digest": preview["digest"]})
    assert applied.status_code == 201, applied.json
    history = client.get(f"/api/v1/programmes/{programme_id}/periods/{period_id}/targets",
                         headers=tokens["engineer"]).json["items"]
    assert [(h["amount"], h["source"]) for h in history[0]["history"]] == [(10_000_000, "baseline"),
                                                                          (8_000_000, "alleviation")]
    mails = [r.getMessage() for r in caplog.records if "target is lowered" in r.getMessage()]
    assert len(mails) == 1 and "admin@northwind.example" in mails[0]
    with client.application.app_context():
        audited = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "programme.targets_lowered")).all()
    assert [event.after["targets"] for event in audited if event.after["reason"] == "Shortage"] == [
        {str(preview["rows"][0]["partner"]["id"]): 8_000_000}]


def test_a_partner_sees_only_its_own_attainment(client, tokens, demo):
    programme_id, period_id = programme(client, tokens)
    with client.application.app_context():
        contoso_id = db.session.get(type(demo["contoso"]), demo["contoso"].id).organisation_id
    own = client.get(f"/api/v1/programmes/{programme_id}/periods/{period_id}/attainment", headers=tokens["engineer"])
    assert [row["partner"]["name"] for row in own.json["items"]] == ["Northwind Networks"]
    assert_error(client.get(f"/api/v1/programmes/{programme_id}/periods/{period_id}/partners/{contoso_id}/attainment",
                            headers=tokens["admin"]), 404, "partner_not_found")


def test_the_command_line_import_reports_file_and_line(app, tmp_path, demo):
    path = tmp_path / "bookings.csv"
    path.write_text("\n".join([HEADER, "Northwind Networks,INV-CLI-1,2019-01-01,EXOS,1.00,USD"]) + "\n")
    result = app.test_cli_runner().invoke(args=["programmes", "import-sales", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: date 2019-01-01 is outside every programme period" in result.output
    assert "NOTHING written" in result.output
