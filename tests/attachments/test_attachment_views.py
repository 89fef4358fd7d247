"""Uploading and downloading attachments on the case page, and the serial pickers of the case forms."""
from __future__ import annotations

import io
import re

import pytest

from app.attachments.models import Attachment
from app.audit.models import AuditEvent
from tests.attachment_store import current_store
from tests.case_helpers import LOG_TEXT, new_case, upload
from tests.web.helpers import count, sign_in, text


class CountingStorage:
    """The real attachment storage, counting how many uploads it was asked to receive."""

    def __init__(self, storage):
        self.storage, self.received = storage, 0

    def new_upload(self):
        self.received += 1
        return self.storage.new_upload()

    def __getattr__(self, name):
        return getattr(self.storage, name)


# Every test here runs on the local folder and on the S3 API.
pytestmark = pytest.mark.usefixtures("attachment_store")


@pytest.fixture
def storage(app, monkeypatch, attachment_store):
    counting = CountingStorage(app.extensions["attachment_storage"])
    monkeypatch.setitem(app.extensions, "attachment_storage", counting)
    return counting


def kept_files(app):
    return current_store(app).everything()


def picker(html: str) -> str:
    return html.split('<datalist id="covered-serials">')[1].split("</datalist>")[0]


def post_file(client, case_id, token, content=LOG_TEXT, kind="error_log", filename="error.log", **extra):
    data = {"kind": kind, "file": (io.BytesIO(content), filename), **extra}
    if token is not None:
        data["csrf_token"] = token
    return client.post(f"/cases/{case_id}/attachments", data=data, content_type="multipart/form-data")


def test_a_partner_uploads_a_log_and_downloads_it_again(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")

    answer = post_file(client, case["id"], token)

    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/cases/{case['id']}#attachments")
    html = text(client.get(f"/cases/{case['id']}"))
    assert "Uploaded error.log (error log (show log, syslog), " in html
    link = re.search(rf'<a href="(/cases/{case["id"]}/attachments/\d+)" download>error.log</a>', html)
    assert link, "no download link for the upload"
    assert "Version 32.6.1.4" in html  # the scan ran (jobs are eager in tests) and its findings show
    assert 'id="item-logs_gathered"' in html and 'name="logs_gathered.attachment_id"' in html  # now a choice for the item

    download = client.get(link.group(1))
    assert download.status_code == 200
    assert download.data == LOG_TEXT
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "error.log" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in download.headers["Cache-Control"]


def test_a_customer_uploads_to_its_own_case(app, client, tokens):
    case = new_case(client, tokens["customer"])
    token = sign_in(client, "customer")
    answer = post_file(client, case["id"], token, content=b"photo", kind="other", filename="label.jpg")

    assert answer.status_code == 303
    assert "label.jpg" in text(client.get(f"/cases/{case['id']}"))


def test_a_file_larger_than_the_form_limit_but_within_the_upload_limit_is_accepted(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    big = b"x" * (app.config["MAX_BODY_BYTES"] + 200_000)

    answer = post_file(client, case["id"], token, content=big, kind="support_bundle", filename="bundle.tgz")

    assert answer.status_code == 303, text(answer)
    assert count(app, Attachment) == 1


def test_a_file_over_the_upload_limit_is_refused_with_413_and_not_kept(app, client, tokens, monkeypatch):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 100_000)
    files = kept_files(app)

    answer = post_file(client, case["id"], token, content=b"x" * 300_000, kind="core_file", filename="core.gz")

    assert answer.status_code == 413
    assert 'id="upload-error">The file is larger than the 97.7 KiB limit.' in text(answer)
    assert count(app, Attachment) == 0 and kept_files(app) == files


@pytest.mark.parametrize("extra, shown", [
    ({"kind": ""}, "Choose what kind of file this is."),
    ({"kind": "diary"}, "Choose what kind of file this is."),
    ({"filename": ""}, "Choose a file to upload."),
    ({"content": b""}, "The file is empty."),
])
def test_bad_uploads_are_refused_next_to_the_form(app, client, tokens, extra, shown):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    events, files = count(app, AuditEvent), kept_files(app)

    answer = post_file(client, case["id"], token, **extra)

    assert answer.status_code == 400
    assert f'id="upload-error">{shown}' in text(answer)
    assert count(app, Attachment) == 0 and count(app, AuditEvent) == events and kept_files(app) == files


def test_an_upload_without_a_csrf_token_is_refused_and_not_kept(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    sign_in(client, "engineer")
    files = kept_files(app)

    missing = post_file(client, case["id"], None)
    forged = post_file(client, case["id"], "forged")

    assert missing.status_code == forged.status_code == 400
    assert "The CSRF token is missing. Reload the page and send the file again." in text(missing)
    assert "The CSRF token is invalid." in text(forged)
    assert count(app, Attachment) == 0 and kept_files(app) == files


def test_the_body_is_not_read_before_the_uploader_is_authorised(app, client, tokens, storage):
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "contoso")
    assert post_file(client, case["id"], token).status_code == 404
    client.post("/logout", data={"csrf_token": token})

    token = sign_in(client, "gtac")  # GTAC sees only escalated cases: still not found
    assert post_file(client, case["id"], token).status_code == 404
    client.post("/logout", data={"csrf_token": token})

    anonymous = post_file(client, case["id"], None)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    assert storage.received == 0
    token = sign_in(client, "engineer")
    assert post_file(client, case["id"], token).status_code == 303
    assert storage.received == 1


def test_another_partners_attachment_cannot_be_downloaded(app, client, tokens):
    case = new_case(client, tokens["engineer"])
    attachment = upload(client, tokens["engineer"], case["id"]).json
    sign_in(client, "contoso")

    answer = client.get(f"/cases/{case['id']}/attachments/{attachment['id']}")

    assert answer.status_code == 404
    assert LOG_TEXT.decode() not in text(answer)


def test_the_open_a_case_form_offers_the_partners_covered_serials(client, demo):
    sign_in(client, "engineer")
    html = text(client.get("/cases/new"))

    options = re.findall(r'<option value="([^"]+)">([^<]+)</option>', picker(html))
    assert [serial for serial, _ in options] == [f"ACME-{n:04d}" for n in range(1, 11)]
    assert options[0][1].startswith("Acme Corp · EXOS ")
    assert 'list="covered-serials"' in html
    assert "FAB-0001" not in html


def test_the_open_a_request_form_offers_only_the_customers_own_serials(client, demo):
    sign_in(client, "fabrikam")
    html = text(client.get("/my/requests/new"))

    serials = re.findall(r'<option value="([^"]+)">', picker(html))
    assert serials == [f"FAB-{n:04d}" for n in range(1, 6)]
