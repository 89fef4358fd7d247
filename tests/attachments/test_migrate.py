"""`flask attachments migrate --to s3`: the local files move to the bucket, verified, and a rerun resumes."""
from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from app.attachments.models import Attachment
from app.files.s3 import MIN_PART_SIZE, S3Storage
from app.extensions import db
from tests.attachment_store import Store
from tests.case_helpers import new_case, upload


@pytest.fixture
def bucket_settings(app, s3_server, monkeypatch):
    bucket = s3_server.new_bucket()
    for key, value in {"S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_server.url, "S3_REGION": "us-east-1",
                       "S3_PART_SIZE": MIN_PART_SIZE}.items():
        monkeypatch.setitem(app.config, key, value)
    storage = S3Storage(bucket, endpoint_url=s3_server.url, region="us-east-1", part_size=MIN_PART_SIZE)
    return Store(storage, s3_server)


def migrate(app, *args):
    return app.test_cli_runner().invoke(args=["attachments", "migrate", "--to", "s3", *args])


def files(app) -> dict[str, str]:
    with app.app_context():
        return dict(db.session.execute(sa.select(Attachment.storage_key, Attachment.sha256)).all())


def test_files_move_verified_and_a_second_run_resumes(app, client, tokens, bucket_settings, monkeypatch):
    case = new_case(client, tokens["engineer"])
    contents = [b"first log\n", b"second log\n" * 1000, b"z" * (MIN_PART_SIZE + 4321)]  # the last in parts
    ids = [upload(client, tokens["engineer"], case["id"], content=c, filename=f"{n}.log").json["id"]
           for n, c in enumerate(contents)]
    kept = files(app)
    local = app.extensions["attachment_storage"]

    first = migrate(app)
    assert first.exit_code == 0, first.output
    assert "moved 3, already in the bucket 0" in first.output
    assert bucket_settings.everything() == (set(kept), [])

    # Interrupted half-way: one object never arrived. The rerun sends only that one.
    gone = sorted(kept)[0]
    bucket_settings.s3.client().delete_object(Bucket=bucket_settings.storage.bucket,
                                              Key=bucket_settings.storage.prefix + gone)
    again = migrate(app)
    assert again.exit_code == 0, again.output
    assert "moved 1, already in the bucket 2" in again.output

    # A local file that no longer matches its row's checksum is refused, and never becomes an object.
    damaged = sorted(kept)[1]
    bucket_settings.s3.client().delete_object(Bucket=bucket_settings.storage.bucket,
                                              Key=bucket_settings.storage.prefix + damaged)
    path = local.path(damaged)
    original = path.read_bytes()
    path.write_bytes(b"X" + original[1:])
    refused = migrate(app)
    assert refused.exit_code == 1
    assert f"FAILED {damaged}: checksum mismatch" in refused.output
    assert bucket_settings.everything() == (set(kept) - {damaged}, [])
    path.write_bytes(original)
    assert "moved 1, already in the bucket 2" in migrate(app).output

    # The application switched to the bucket serves every file, byte for byte.
    monkeypatch.setitem(app.extensions, "attachment_storage", bucket_settings.storage)
    for attachment_id, content in zip(ids, contents):
        answer = client.get(f"/api/v1/cases/{case['id']}/attachments/{attachment_id}/content",
                            headers=tokens["engineer"])
        assert answer.status_code == 200
        assert hashlib.sha256(answer.data).hexdigest() == hashlib.sha256(content).hexdigest()

    # Once verified in the bucket, the local copies may go.
    removed = migrate(app, "--delete-local")
    assert "moved 0, already in the bucket 3, removed locally 3" in removed.output
    assert not any(local.path(key).exists() for key in kept)


def test_without_a_bucket_it_says_what_is_missing(app):
    answer = migrate(app)
    assert answer.exit_code != 0
    assert "S3_BUCKET" in answer.output
