"""POST/GET /api/v1/cases/{id}/attachments: streamed, hashed, size-limited, safely named, scoped."""
from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from app.attachments.models import Attachment
from app.audit.models import AuditEvent
from app.extensions import db
from app.outbox.models import OutboxEvent
from tests.attachment_store import current_store
from tests.case_helpers import LOG_TEXT, new_case, upload

# Every test here runs on the local folder and on the S3 API.
pytestmark = pytest.mark.usefixtures("attachment_store")


def stored_files(app):
    return current_store(app).everything()


def test_upload_records_size_and_sha256_and_downloads_back(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    answer = upload(client, tokens["engineer"], case["id"], filename="switch error.log")
    assert answer.status_code == 201, answer.json
    attachment = answer.json
    assert attachment["size"] == len(LOG_TEXT)
    assert attachment["sha256"] == hashlib.sha256(LOG_TEXT).hexdigest()
    assert (attachment["kind"], attachment["filename"]) == ("error_log", "switch error.log")
    # The scan is a job of its own, run after the upload's commit: its findings are read back.
    scanned = client.get(f"/api/v1/cases/{case['id']}/attachments/{attachment['id']}",
                         headers=tokens["engineer"])
    assert scanned.json["findings"]["software_version"] == "32.6.1.4"
    download = client.get(f"/api/v1/cases/{case['id']}/attachments/{attachment['id']}/content",
                          headers=tokens["engineer"])
    assert download.status_code == 200 and download.data == LOG_TEXT
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "switch error.log" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype in ("text/plain", "application/octet-stream")
    listed = client.get(f"/api/v1/cases/{case['id']}/attachments", headers=tokens["customer"])
    assert [a["id"] for a in listed.json] == [attachment["id"]]


def test_client_paths_are_never_used_for_storage(app, client, tokens, attachment_store):
    case = new_case(client, tokens["engineer"])
    answer = upload(client, tokens["engineer"], case["id"], filename="../../../etc/passwd")
    assert answer.status_code == 201
    assert answer.json["filename"] == "passwd"
    with app.app_context():
        key = db.session.get(Attachment, answer.json["id"]).storage_key
    assert key in attachment_store.kept() and len(key) == 32  # a generated name, nothing of the client's


def test_too_large_upload_is_413_and_leaves_nothing_behind(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    before = stored_files(app)
    limit = app.config["MAX_UPLOAD_BYTES"]
    app.config["MAX_UPLOAD_BYTES"] = 1000
    try:
        answer = upload(client, tokens["engineer"], case["id"], content=b"x" * 200_000)
    finally:
        app.config["MAX_UPLOAD_BYTES"] = limit
    assert answer.status_code == 413
    assert answer.json["error"]["code"] == "payload_too_large"
    assert stored_files(app) == before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_bad_uploads_are_400_and_store_nothing(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    url = f"/api/v1/cases/{case['id']}/attachments"
    before = stored_files(app)
    no_file = client.post(url, headers=tokens["engineer"], data={"kind": "error_log"},
                          content_type="multipart/form-data")
    assert (no_file.status_code, no_file.json["error"]["code"]) == (400, "file_missing")
    bad_kind = upload(client, tokens["engineer"], case["id"], kind="selfie")
    assert (bad_kind.status_code, bad_kind.json["error"]["code"]) == (400, "invalid_kind")
    empty = upload(client, tokens["engineer"], case["id"], content=b"")
    assert (empty.status_code, empty.json["error"]["code"]) == (400, "file_empty")
    as_json = client.post(url, headers=tokens["engineer"], json={"kind": "error_log"})
    assert as_json.status_code == 400
    assert stored_files(app) == before


def test_attachments_are_tenant_scoped(client, tokens):
    case = new_case(client, tokens["engineer"])
    attachment = upload(client, tokens["engineer"], case["id"]).json
    path = f"/api/v1/cases/{case['id']}/attachments/{attachment['id']}"
    for outsider in ("contoso", "fabrikam", "gtac", "programs"):
        assert client.get(path, headers=tokens[outsider]).status_code == 404, outsider
        assert client.get(path + "/content", headers=tokens[outsider]).status_code == 404, outsider
    assert upload(client, tokens["customer"], case["id"]).status_code == 201
    other_case = new_case(client, tokens["engineer"])
    wrong_case = f"/api/v1/cases/{other_case['id']}/attachments/{attachment['id']}"
    assert client.get(wrong_case, headers=tokens["engineer"]).status_code == 404


def written(app) -> tuple:
    """Everything an upload leaves behind: stored files, attachment rows, audit and outbox events."""
    with app.app_context():
        counts = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                       for model in (Attachment, AuditEvent, OutboxEvent))
        db.session.remove()
    return stored_files(app), counts


def test_an_outsiders_upload_is_404_and_stores_nothing(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    assert upload(client, tokens["engineer"], case["id"]).status_code == 201
    before = written(app)
    assert before[1][0] == 1  # the engineer's own file, to compare against
    for outsider in ("contoso", "fabrikam", "gtac", "programs"):
        answer = upload(client, tokens[outsider], case["id"])
        assert answer.status_code == 404, outsider
        assert answer.json["error"]["code"] == "case_not_found", outsider
        assert written(app) == before, outsider


def test_an_uploader_deactivated_while_the_file_arrives_is_refused_and_nothing_is_kept(app, client, tokens,
                                                                                      monkeypatch):
    from app.accounts.models import User
    from app.attachments import services

    case = new_case(client, tokens["engineer"])
    before = written(app)
    store = services.storage

    class DeactivatedMeanwhile:
        """The store, while an administrator deactivates the uploader as the body arrives."""

        def __getattr__(self, name):
            return getattr(store(), name)

        def keep(self, stream):
            with app.app_context():
                db.session.execute(sa.update(User).where(User.email == "engineer@northwind.example")
                                   .values(active=False))
                db.session.commit()
            return store().keep(stream)

    monkeypatch.setattr(services, "storage", DeactivatedMeanwhile)
    answer = upload(client, tokens["engineer"], case["id"])
    assert answer.status_code == 403 and answer.json["error"]["code"] == "account_deactivated", answer.json
    assert written(app) == before
