"""Attachments in an S3-compatible bucket (moto's S3 API on loopback): parts, downloads, faults."""
from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from app.attachments.models import Attachment
from app.files.s3 import MIN_PART_SIZE
from app.extensions import db
from app.outbound import OpenTransaction
from tests.attachment_store import Relay, Store, s3_storage
from tests.case_helpers import new_case, upload

BOUNDARY = "gtac-test-boundary"


@pytest.fixture
def bucket(app, s3_server, monkeypatch):
    """The application on a fresh bucket of the S3 API, with the smallest parts S3 takes."""
    def use(**options) -> Store:
        storage = s3_storage(s3_server, **options)
        monkeypatch.setitem(app.extensions, "attachment_storage", storage)
        store = Store(storage, s3_server)
        monkeypatch.setitem(app.extensions, "attachment_store", store)
        return store
    return use


def rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Attachment))


class GeneratedBody:
    """A multipart body with a file of `size` bytes made up on the fly; `when_read(at, action)` runs
    the action once the server has read that far into the file."""

    def __init__(self, size: int, at: int | None = None, action=None, fields: dict[str, str] | None = None):
        fields = {"kind": "error_log", **(fields or {})}
        self.head = ("".join(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                             for name, value in fields.items())
                     + f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.log\"\r\n"
                     "Content-Type: text/plain\r\n\r\n").encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.size, self.at, self.action = size, at, action
        self.length = len(self.head) + size + len(self.tail)
        self.position = 0
        self.sha256 = hashlib.sha256()
        self.pattern = (b"0123456789abcdef" * 4096)  # 64 KiB

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        # Only what the test client does to measure the body; it is read from the start.
        self.position = self.length if whence == 2 else offset
        return self.position

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.length - self.position
        out = bytearray()
        while len(out) < n and self.position < self.length:
            p = self.position
            if p < len(self.head):
                piece = self.head[p:p + n - len(out)]
            elif p < len(self.head) + self.size:
                offset = p - len(self.head)
                take = min(n - len(out), self.size - offset, len(self.pattern))
                piece = self.pattern[:take]
                self.sha256.update(piece)
                if self.at is not None and offset + take >= self.at and self.action is not None:
                    self.action()
                    self.action = None
            else:
                t = p - len(self.head) - self.size
                piece = self.tail[t:t + n - len(out)]
            out += piece
            self.position += len(piece)
        return bytes(out)


def post_body(client, headers, case_id, body: GeneratedBody):
    return client.post(f"/api/v1/cases/{case_id}/attachments", headers=headers, input_stream=body,
                       content_type=f"multipart/form-data; boundary={BOUNDARY}")


def test_a_file_larger_than_a_part_goes_up_in_parts_and_comes_back_whole(app, client, tokens, bucket):
    store = bucket()
    case = new_case(client, tokens["engineer"])
    body = GeneratedBody(2 * MIN_PART_SIZE + 12345)  # three parts, the last a small one

    answer = post_body(client, tokens["engineer"], case["id"], body)

    assert answer.status_code == 201, answer.json
    assert answer.json["size"] == body.size
    assert answer.json["sha256"] == body.sha256.hexdigest()
    with app.app_context():
        key = db.session.get(Attachment, answer.json["id"]).storage_key
    assert store.everything() == ({key}, [])
    head = store.s3.client().head_object(Bucket=store.storage.bucket, Key=store.storage.prefix + key)
    assert head["ContentLength"] == body.size
    download = client.get(f"/api/v1/cases/{case['id']}/attachments/{answer.json['id']}/content",
                          headers=tokens["engineer"])
    assert download.status_code == 200
    assert download.headers["Content-Length"] == str(body.size)
    assert hashlib.sha256(download.data).hexdigest() == body.sha256.hexdigest()


def test_the_store_stopping_during_an_upload_is_a_clear_503_and_leaves_nothing(app, client, tokens,
                                                                             s3_server, bucket):
    relay = Relay(s3_server.port)
    store = bucket(endpoint=relay.url, timeout=5)
    case = new_case(client, tokens["engineer"])
    body = GeneratedBody(3 * MIN_PART_SIZE, at=MIN_PART_SIZE + 1, action=relay.cut)  # after the first part

    started = time.monotonic()
    answer = post_body(client, tokens["engineer"], case["id"], body)

    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "storage_unavailable"
    assert "nothing was kept" in answer.json["error"]["message"]
    assert answer.headers["Retry-After"] == "30"
    assert time.monotonic() - started < 30
    assert rows(app) == 0
    relay.restore()
    kept, in_flight = store.everything()
    assert kept == set()
    # The abort could not reach the stopped store either: its parts are not an object, and the
    # scheduled sweep of stale uploads removes them.
    assert len(in_flight) <= 1
    assert store.storage.abort_stale_uploads(timedelta(0)) == len(in_flight)
    assert store.everything() == (set(), [])
    relay.cut()


def test_a_refused_upload_in_parts_is_aborted_at_once(app, client, tokens, bucket):
    store = bucket()
    case = new_case(client, tokens["engineer"])

    # Refused once the whole body is read (its parts are in the store by then).
    answer = post_body(client, tokens["engineer"], case["id"],
                       GeneratedBody(2 * MIN_PART_SIZE + 1, fields={"kind": "selfie"}))

    assert (answer.status_code, answer.json["error"]["code"]) == (400, "invalid_kind")
    assert rows(app) == 0
    assert store.everything() == (set(), [])


def test_a_refused_upload_on_the_case_page_is_aborted_before_the_page_is_drawn(app, client, tokens, bucket):
    """The page answering the refusal reads the database: the abort must come first, with no
    transaction open (the test fails on any call to the store made inside one)."""
    from tests.web.helpers import sign_in, text

    store = bucket()
    case = new_case(client, tokens["engineer"])
    token = sign_in(client, "engineer")
    body = GeneratedBody(2 * MIN_PART_SIZE + 1, fields={"csrf_token": token, "kind": "diary"})

    answer = client.post(f"/cases/{case['id']}/attachments", input_stream=body,
                         content_type=f"multipart/form-data; boundary={BOUNDARY}")

    assert answer.status_code == 400 and "Choose what kind of file this is." in text(answer)
    assert rows(app) == 0
    assert store.everything() == (set(), [])


def test_downloads_may_redirect_to_a_short_lived_signed_address(app, client, tokens, bucket):
    bucket(downloads="redirect", presign_seconds=2)
    case = new_case(client, tokens["engineer"])
    content = b"<Erro:HAL.Port> Port 1:49 link flap detected\n"
    attachment = upload(client, tokens["engineer"], case["id"], content=content, filename="flap log.txt").json
    path = f"/api/v1/cases/{case['id']}/attachments/{attachment['id']}/content"

    answer = client.get(path, headers=tokens["engineer"])

    assert answer.status_code == 303
    assert "no-store" in answer.headers["Cache-Control"]
    fetched = requests.get(answer.headers["Location"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == content
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="flap log.txt"'
    # The same authorisation as a streamed download: outsiders get no address at all.
    for outsider in ("contoso", "fabrikam"):
        refused = client.get(path, headers=tokens[outsider])
        assert refused.status_code == 404 and "Location" not in refused.headers
    # Short-lived: signed (SigV4) for two seconds (moto does not enforce the expiry; S3 does).
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["X-Amz-Expires"] == ["2"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]


def test_no_call_to_the_store_with_a_transaction_open(app, bucket):
    store = bucket()
    upload_ = store.storage.new_upload()
    upload_.write(b"x" * 10)
    key = store.storage.keep(upload_)
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))  # a transaction is open now
        with pytest.raises(OpenTransaction):
            store.storage.open(key)
        db.session.rollback()
        with store.storage.open(key) as stream:
            assert stream.read() == b"x" * 10
    refusals = app.extensions["outbound_refusals"]
    assert refusals == ["attachment store: get object"]
    refusals.clear()  # the refusal was this test's point
