"""An upload to the bucket, part by part, against a store whose answers the test holds back: how many
parts wait in memory, in which order they are put together, and what a failed part leaves."""
from __future__ import annotations

import collections
import hashlib
import os
import threading
import time

import pytest
from botocore.exceptions import EndpointConnectionError

from app.files.s3 import MIN_PART_SIZE, S3Storage
from app.files.storage import StorageUnavailable


class SlowStore:
    """The calls of a boto3 S3 client, answering each part only once the test lets it through."""

    def __init__(self, fail_part: int | None = None):
        self.fail_part = fail_part
        self.parts: dict[int, bytes] = {}
        self.completed: list[int] | None = None
        self.aborted_with: set[int] | None = None
        self.sending = 0
        self.most_sending = 0
        self.lock = threading.Lock()
        self.go: dict[int, threading.Event] = collections.defaultdict(threading.Event)

    def let(self, *numbers: int) -> None:
        with self.lock:
            for number in numbers:
                self.go[number].set()

    def create_multipart_upload(self, **_):
        return {"UploadId": "u1"}

    def upload_part(self, PartNumber, Body, **_):
        with self.lock:
            self.sending += 1
            self.most_sending = max(self.most_sending, self.sending)
        try:
            with self.lock:
                go = self.go[PartNumber]
            assert go.wait(timeout=10), f"the test never let part {PartNumber} through"
            if PartNumber == self.fail_part:
                raise EndpointConnectionError(endpoint_url="http://store")
            self.parts[PartNumber] = bytes(Body)
            return {"ETag": hashlib.md5(Body).hexdigest()}
        finally:
            with self.lock:
                self.sending -= 1

    def complete_multipart_upload(self, MultipartUpload, **_):
        self.completed = [part["PartNumber"] for part in MultipartUpload["Parts"]]

    def abort_multipart_upload(self, **_):
        self.aborted_with = set(self.parts)

    def put_object(self, Body, **_):
        self.parts[0] = bytes(Body)


def send(upload, data: bytes, chunk: int = 64 * 1024) -> None:
    for start in range(0, len(data), chunk):
        upload.write(data[start:start + chunk])


def eventually(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


def writer(target, *args) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def test_no_more_parts_than_allowed_wait_in_memory_and_they_are_put_together_in_order():
    store = SlowStore()
    storage = S3Storage("b", part_size=MIN_PART_SIZE, parts_in_flight=2, client=store)
    upload = storage.new_upload()
    data = os.urandom(5 * MIN_PART_SIZE + 777)

    sending = writer(send, upload, data)
    eventually(lambda: store.most_sending == 2 and upload.size >= 3 * MIN_PART_SIZE)
    time.sleep(0.3)
    # Two parts on their way and a third one full: the writer waits instead of taking more memory.
    assert sending.is_alive()
    assert store.most_sending == 2
    assert upload.size == 3 * MIN_PART_SIZE
    store.let(1, 2, 3, 4, 5, 6)
    sending.join(10)
    storage.keep(upload)

    assert store.most_sending == 2
    assert store.completed == [1, 2, 3, 4, 5, 6]
    assert [len(store.parts[n]) for n in range(1, 6)] == [MIN_PART_SIZE] * 5
    assert b"".join(store.parts[n] for n in range(1, 7)) == data
    assert upload.sha256 == hashlib.sha256(data).hexdigest()


def test_a_file_smaller_than_a_part_is_sent_whole():
    store = SlowStore()
    storage = S3Storage("b", part_size=MIN_PART_SIZE, client=store)
    upload = storage.new_upload()
    data = os.urandom(MIN_PART_SIZE - 1)
    send(upload, data, chunk=1000)

    storage.keep(upload)

    assert store.parts == {0: data} and store.completed is None


def test_a_failed_part_is_a_503_and_the_upload_is_aborted_only_once_the_other_part_is_in():
    store = SlowStore(fail_part=1)
    storage = S3Storage("b", part_size=MIN_PART_SIZE, parts_in_flight=2, client=store)
    upload = storage.new_upload()
    failure: list[BaseException] = []

    def write_all():
        try:
            send(upload, os.urandom(4 * MIN_PART_SIZE))
        except StorageUnavailable as exc:
            failure.append(exc)

    sending = writer(write_all)
    eventually(lambda: store.sending == 2)
    store.let(1)  # part 1 fails while part 2 is still on its way
    time.sleep(0.5)
    assert sending.is_alive() and store.aborted_with is None
    store.let(2)  # part 2 lands
    sending.join(10)

    assert failure and failure[0].status == 503
    assert store.aborted_with == {2}  # the abort came after the part that was still on its way
    assert store.completed is None
    assert upload.state == "discarded"
    with pytest.raises(RuntimeError):
        upload.write(b"more")
