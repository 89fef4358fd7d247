"""Files on the SR's partner<->GTAC thread: GTAC reads the case's files and adds its own; the customer never
sees what was added on the thread."""
from __future__ import annotations

import hashlib
import io

import pytest
import sqlalchemy as sa

from app.attachments.models import Attachment
from app.extensions import db
from tests.attachment_store import current_store
from tests.case_helpers import LOG_TEXT, upload
from tests.srs.helpers import escalate, get_sr, make_sr
from tests.web.helpers import sign_in, text

GTAC_LOG = b"<Info:GTAC> Debug image 32.6.1.4-patch1 for port 1:49\n"


def sr_upload(client, headers, number, content=GTAC_LOG, kind="other", filename="gtac-debug.txt"):
    return client.post(f"/api/v1/srs/{number}/attachments", headers=headers,
                       data={"kind": kind, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


# Every test here runs on the local folder and on the S3 API.
pytestmark = pytest.mark.usefixtures("attachment_store")


def stored_files(app):
    """What the store holds: kept files, and uploads in flight."""
    return current_store(app).everything()


@pytest.fixture
def escalated(client, tokens):
    """An escalated Northwind case with the partner's files; returns (SR number, case id)."""
    number = escalate(client, tokens)
    return number, get_sr(client, tokens["gtac"], number)["case_id"]


def test_gtac_reads_the_partners_files_through_the_sr(client, tokens, escalated):
    number, case_id = escalated
    partner_files = client.get(f"/api/v1/cases/{case_id}/attachments", headers=tokens["engineer"]).json
    assert partner_files, "escalation needs the partner's logs"
    for who in ("gtac", "manager"):
        listed = client.get(f"/api/v1/srs/{number}/attachments", headers=tokens[who])
        assert listed.status_code == 200
        assert [a["id"] for a in listed.json] == [a["id"] for a in partner_files]
        assert {a["visibility"] for a in listed.json} == {"case"}
    first = partner_files[0]
    content = client.get(f"/api/v1/srs/{number}/attachments/{first['id']}/content", headers=tokens["gtac"])
    assert content.status_code == 200
    assert hashlib.sha256(content.data).hexdigest() == first["sha256"]
    assert content.headers["Content-Disposition"].startswith("attachment;")
    assert content.headers["X-Content-Type-Options"] == "nosniff"


def test_gtacs_file_reaches_the_partner_and_never_the_customer(app, client, tokens, escalated):
    number, case_id = escalated
    answer = sr_upload(client, tokens["gtac"], number)
    assert answer.status_code == 201, answer.json
    mine = answer.json
    assert (mine["visibility"], mine["case_id"], mine["size"]) == ("gtac_thread", case_id, len(GTAC_LOG))
    assert mine["sha256"] == hashlib.sha256(GTAC_LOG).hexdigest()
    assert mine["uploaded_by"]["name"] == "Grace GTAC"

    # The partner sees it on the case and through the SR, and downloads it.
    for path in (f"/api/v1/cases/{case_id}/attachments", f"/api/v1/srs/{number}/attachments"):
        assert mine["id"] in [a["id"] for a in client.get(path, headers=tokens["engineer"]).json], path
    download = client.get(f"/api/v1/cases/{case_id}/attachments/{mine['id']}/content", headers=tokens["engineer"])
    assert download.status_code == 200 and download.data == GTAC_LOG
    # GTAC sees its own file through the SR and through the case.
    assert mine["id"] in [a["id"] for a in client.get(f"/api/v1/cases/{case_id}/attachments",
                                                      headers=tokens["manager"]).json]

    # The customer: not listed, not found by id, not on its case page.
    customer_list = client.get(f"/api/v1/cases/{case_id}/attachments", headers=tokens["customer"])
    assert customer_list.status_code == 200 and customer_list.json, "the customer still sees the case's files"
    assert mine["id"] not in [a["id"] for a in customer_list.json]
    for suffix in ("", "/content"):
        refused = client.get(f"/api/v1/cases/{case_id}/attachments/{mine['id']}{suffix}", headers=tokens["customer"])
        assert refused.status_code == 404 and refused.json["error"]["code"] == "attachment_not_found"
    assert client.get(f"/api/v1/srs/{number}/attachments", headers=tokens["customer"]).status_code == 404

    customer_web = app.test_client()
    sign_in(customer_web, "customer")
    page = text(customer_web.get(f"/cases/{case_id}"))
    assert "gtac-debug.txt" not in page
    assert all(a["filename"] in page for a in customer_list.json)
    assert customer_web.get(f"/cases/{case_id}/attachments/{mine['id']}").status_code == 404

    # The partner's case page marks it as GTAC's.
    partner_web = app.test_client()
    sign_in(partner_web, "engineer")
    page = text(partner_web.get(f"/cases/{case_id}"))
    assert "gtac-debug.txt" in page and "From GTAC" in page


@pytest.mark.parametrize("who, status", [
    ("gtac", 201), ("manager", 201), ("engineer", 201), ("admin", 201),
    ("contoso", 404), ("customer", 404), ("fabrikam", 404), ("programs", 404),
])
def test_who_may_add_files_to_the_thread(app, client, tokens, who, status):
    number = make_sr(app, "in_progress")
    answer = sr_upload(client, tokens[who], number)
    assert answer.status_code == status, answer.json
    listed = client.get(f"/api/v1/srs/{number}/attachments", headers=tokens[who])
    assert listed.status_code == (200 if status == 201 else 404)
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Attachment))
    assert count == (1 if status == 201 else 0)


def test_a_foreign_partner_cannot_read_the_thread_files(app, client, tokens):
    number = make_sr(app, "in_progress")
    mine = sr_upload(client, tokens["gtac"], number).json
    for who in ("contoso", "customer", "programs"):
        path = f"/api/v1/srs/{number}/attachments/{mine['id']}"
        assert client.get(path, headers=tokens[who]).status_code == 404, who
        assert client.get(path + "/content", headers=tokens[who]).status_code == 404, who
    other = make_sr(app, "in_progress")
    wrong_sr = client.get(f"/api/v1/srs/{other}/attachments/{mine['id']}", headers=tokens["gtac"])
    assert wrong_sr.status_code == 404


def test_too_large_is_413_and_leaves_nothing(app, client, tokens):
    number = make_sr(app, "in_progress")
    before = stored_files(app)
    limit = app.config["MAX_UPLOAD_BYTES"]
    app.config["MAX_UPLOAD_BYTES"] = 1000
    try:
        answer = sr_upload(client, tokens["gtac"], number, content=b"x" * 200_000)
    finally:
        app.config["MAX_UPLOAD_BYTES"] = limit
    assert answer.status_code == 413
    assert answer.json["error"]["code"] == "payload_too_large"
    assert stored_files(app) == before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_bad_uploads_and_closed_srs_store_nothing(app, client, tokens):
    number = make_sr(app, "in_progress")
    before = stored_files(app)
    bad_kind = sr_upload(client, tokens["gtac"], number, kind="selfie")
    assert (bad_kind.status_code, bad_kind.json["error"]["code"]) == (400, "invalid_kind")
    empty = sr_upload(client, tokens["gtac"], number, content=b"")
    assert (empty.status_code, empty.json["error"]["code"]) == (400, "file_empty")
    closed = make_sr(app, "closed")
    refused = sr_upload(client, tokens["gtac"], closed)
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "sr_closed")
    assert stored_files(app) == before


def test_files_the_partner_adds_on_the_case_stay_visible_to_the_customer(client, tokens, escalated):
    number, case_id = escalated
    on_case = upload(client, tokens["engineer"], case_id, content=LOG_TEXT, filename="more.log").json
    on_thread = sr_upload(client, tokens["engineer"], number, filename="config.txt").json
    assert (on_case["visibility"], on_thread["visibility"]) == ("case", "gtac_thread")
    customer_ids = [a["id"] for a in client.get(f"/api/v1/cases/{case_id}/attachments",
                                                headers=tokens["customer"]).json]
    assert on_case["id"] in customer_ids and on_thread["id"] not in customer_ids


def test_the_sr_page_form_uploads_and_refuses_what_it_must(app, client, tokens):
    from tests.web.helpers import csrf_token

    number = make_sr(app, "in_progress")
    web = app.test_client()
    token = sign_in(web, "gtac")
    url = f"/srs/{number}/attachments"
    before = stored_files(app)
    no_token = web.post(url, data={"kind": "other", "file": (io.BytesIO(GTAC_LOG), "notes.txt")},
                        content_type="multipart/form-data")
    assert no_token.status_code == 400 and "Reload the page" in text(no_token)
    limit = app.config["MAX_UPLOAD_BYTES"]
    app.config["MAX_UPLOAD_BYTES"] = 1000
    try:
        too_large = web.post(url, data={"csrf_token": token, "kind": "other",
                                        "file": (io.BytesIO(b"x" * 200_000), "big.bin")},
                             content_type="multipart/form-data")
    finally:
        app.config["MAX_UPLOAD_BYTES"] = limit
    assert too_large.status_code == 413 and "larger than" in text(too_large)
    assert stored_files(app) == before
    page = text(web.get(f"/srs/{number}"))
    sent = web.post(url, data={"csrf_token": csrf_token(page), "kind": "other",
                               "file": (io.BytesIO(GTAC_LOG), "notes.txt")}, content_type="multipart/form-data")
    assert sent.status_code == 303
    page = text(web.get(f"/srs/{number}"))
    assert "notes.txt" in page
    attachment_id = client.get(f"/api/v1/srs/{number}/attachments", headers=tokens["gtac"]).json[0]["id"]
    assert web.get(f"/srs/{number}/attachments/{attachment_id}").data == GTAC_LOG
    customer = app.test_client()
    sign_in(customer, "customer")
    assert customer.get(f"/srs/{number}/attachments/{attachment_id}").status_code == 404


def test_the_rma_form_explains_bad_input_and_is_offered_only_where_it_applies(app, client, tokens):
    from tests.web.helpers import csrf_token

    number = escalate(client, tokens, hardware_issue=True)
    web = app.test_client()
    sign_in(web, "engineer")
    page = text(web.get(f"/srs/{number}"))
    assert "Request an RMA" in page
    answer = web.post(f"/srs/{number}/rmas", data={"csrf_token": csrf_token(page), "ship_to": "x",
                                                    "serial_0": "ACME-0003", "failure_0": "dead"})
    assert answer.status_code == 400
    assert "ship to" in text(answer) and "product 1, failure description" in text(answer)
    assert f'<link rel="canonical" href="/srs/{number}">' in text(answer)  # read again from there, live
    assert client.get(f"/api/v1/srs/{number}", headers=tokens["engineer"]).json["rmas"] == []
    software = escalate(client, tokens)
    assert "Request an RMA" not in text(web.get(f"/srs/{software}"))
    gtac = app.test_client()
    sign_in(gtac, "gtac")
    assert "Request an RMA" not in text(gtac.get(f"/srs/{number}"))
