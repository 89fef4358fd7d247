"""Choosing the attachment store by setting: the local folder unless ATTACHMENTS_STORAGE=s3 names a bucket."""
from __future__ import annotations

import pytest

from app.files.s3 import S3Storage
from app.files.settings import make_storage
from app.files.storage import LocalStorage
from app.config import ConfigError, load_config


def config(tmp_path, **env):
    return load_config(str(tmp_path), {"GTAC_ENV": "testing", **env})


def test_the_local_folder_is_the_default(tmp_path):
    storage = make_storage(config(tmp_path))
    assert isinstance(storage, LocalStorage) and storage.root == tmp_path / "attachments"


def test_s3_takes_its_bucket_and_endpoint_from_the_settings(tmp_path):
    storage = make_storage(config(tmp_path, ATTACHMENTS_STORAGE="s3", S3_BUCKET="gtac-files",
                                  S3_ENDPOINT_URL="http://127.0.0.1:9000", S3_REGION="eu-central-1",
                                  AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y"))
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.part_size, storage.parts_in_flight) == (
        "gtac-files", "attachments/", 8 * 1024 * 1024, 2)
    assert storage.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert storage.client.meta.region_name == "eu-central-1"


@pytest.mark.parametrize("env, message", [
    ({"ATTACHMENTS_STORAGE": "s3"}, "S3_BUCKET"),
    ({"ATTACHMENTS_STORAGE": "ftp"}, "ATTACHMENTS_STORAGE must be local or s3"),
    ({"ATTACHMENTS_STORAGE": "s3", "S3_BUCKET": "b", "S3_PART_SIZE": "1048576"}, "at least 5 MiB"),
    ({"ATTACHMENTS_STORAGE": "s3", "S3_BUCKET": "b", "S3_PARTS_IN_FLIGHT": "0"}, "S3_PARTS_IN_FLIGHT"),
    ({"S3_DOWNLOADS": "inline"}, "S3_DOWNLOADS must be stream or redirect"),
])
def test_a_wrong_setting_stops_the_start_with_its_name(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        config(tmp_path, **env)
