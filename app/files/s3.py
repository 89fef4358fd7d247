"""Attachments in an S3-compatible bucket (ATTACHMENTS_STORAGE=s3), for deployments on several machines.

An upload goes to the bucket as it arrives: its bytes collect in a part of
S3_PART_SIZE and each full part is sent as a part of a multipart upload while
the next one fills, up to S3_PARTS_IN_FLIGHT (2) at once, so a 2 GiB file needs
at most four parts of memory (two on their way, one filling, and its copy as it is
joined) and never touches the local disk. A
file smaller than one part is sent whole with a single PUT. The object appears
only when the upload is completed (keep()); an upload that fails or is not kept
is aborted, so nothing half-written is ever visible. Should the abort itself not
reach the store (it stopped), the parts wait for `abort_stale_uploads` (a
scheduled job) or the bucket's own lifecycle rule.

Every call to the bucket is a call to the outside world: app.outbound.guard()
refuses it while a database transaction is open.
"""
from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app import outbound
from app.files.storage import Incoming, StorageUnavailable, check_key, new_key

log = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest part but the last
READ_CHUNK = 1024 * 1024


def _unavailable(what: str, exc: Exception) -> StorageUnavailable:
    log.warning("attachment store: %s failed: %s", what, exc)
    return StorageUnavailable("The attachment store is unavailable; nothing was kept. Try again in a moment.",
                              details={"retry_after_seconds": 30})


class IncomingObject(Incoming):
    """An upload on its way to the bucket, a part at a time.

    Full parts are sent on threads of the upload's own while the next one is
    received, so that reading the request and writing to the store overlap; at
    most `parts_in_flight` parts are on their way at once, so memory stays at
    that many parts plus the one filling (twice, for a moment, as it is joined).
    """

    def __init__(self, storage: S3Storage, metadata: dict[str, str] | None = None):
        super().__init__()
        self.storage = storage
        self.key = new_key()
        self.metadata = metadata or {}
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        # The part filling, as the chunks received: joined once when full, so every byte is
        # copied once on its way to the store (a growing buffer copies each byte two or three times).
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._sender: ThreadPoolExecutor | None = None
        self._in_flight: deque[Future] = deque()

    def _write(self, data: bytes) -> None:
        if self.state != "receiving":
            raise RuntimeError(f"upload is {self.state}")
        if not isinstance(data, bytes):
            data = bytes(data)  # kept until its part is sent: must not change meanwhile
        size = self.storage.part_size
        while self._buffered + len(data) >= size:
            room = size - self._buffered
            self._chunks.append(data[:room] if room < len(data) else data)
            data = data[room:]
            part = self._take_buffered()
            self._send_part(part)
        if data:
            self._chunks.append(data)
            self._buffered += len(data)

    def _take_buffered(self) -> bytes:
        """The bytes received and not yet sent, as one (the buffer is empty afterwards)."""
        chunks, self._chunks, self._buffered = self._chunks, [], 0
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _send_part(self, part: bytes) -> None:
        """Hand a part to the senders once fewer than `parts_in_flight` are on their way (raises if
        one of those failed)."""
        try:
            if self.upload_id is None:
                outbound.guard("attachment store: start upload")
                self.upload_id = self.storage.client.create_multipart_upload(
                    Bucket=self.storage.bucket, Key=self.storage.object_name(self.key),
                    Metadata=self.metadata)["UploadId"]
                self._sender = ThreadPoolExecutor(max_workers=self.storage.parts_in_flight,
                                                  thread_name_prefix="attachment-upload")
            # The guard is this thread's: the senders have no database session of their own to check.
            outbound.guard("attachment store: upload part")
            while len(self._in_flight) >= self.storage.parts_in_flight:
                self._wait_for_oldest_part()
            number = len(self.parts) + len(self._in_flight) + 1
            self._in_flight.append(self._sender.submit(self._upload_part, number, part))
        except (BotoCoreError, ClientError) as exc:
            self.storage.discard(self)
            raise _unavailable("upload part", exc) from exc

    def _upload_part(self, number: int, part: bytes) -> dict[str, Any]:
        answer = self.storage.client.upload_part(
            Bucket=self.storage.bucket, Key=self.storage.object_name(self.key), UploadId=self.upload_id,
            PartNumber=number, Body=part)
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _wait_for_oldest_part(self) -> None:
        # Parts are numbered in the order they are handed on, and so collected: self.parts stays
        # in ascending order, as completing the upload requires.
        self.parts.append(self._in_flight.popleft().result())

    def _wait_for_parts(self) -> None:
        while self._in_flight:
            self._wait_for_oldest_part()

    def _stop_sender(self) -> None:
        while self._in_flight:
            try:
                self._wait_for_oldest_part()
            except Exception:
                pass  # the upload is being given up anyway; the other parts still end first
        if self._sender is not None:
            self._sender.shutdown(wait=True)
            self._sender = None

    # What werkzeug calls once the part is in: the upload is not read back.
    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        """At the end of the request: an upload neither kept nor discarded is aborted now."""
        if self.state == "receiving":
            try:
                self.storage.discard(self)
            except Exception:  # the parts wait for abort_stale_uploads
                log.exception("attachment store: could not abort an abandoned upload")

    @property
    def closed(self) -> bool:
        return self.state != "receiving"


class StoredObject:
    """An object's content as a readable stream (the answer of one GET)."""

    def __init__(self, body, size: int):
        self._body = body
        self.size = size

    def read(self, size: int = -1) -> bytes:
        return self._body.read(None if size is None or size < 0 else size)

    def __iter__(self) -> Iterator[bytes]:
        return self._body.iter_chunks(READ_CHUNK)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> StoredObject:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class S3Storage:
    """Kept files as objects `<prefix><key>` in one bucket."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 prefix: str = "attachments/", part_size: int = 8 * 1024 * 1024, parts_in_flight: int = 2,
                 downloads: str = "stream", presign_seconds: int = 60, timeout: float = 30,
                 addressing_style: str = "auto", client=None):
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3_PART_SIZE must be at least {MIN_PART_SIZE} bytes")
        if parts_in_flight < 1:
            raise ValueError("S3_PARTS_IN_FLIGHT must be at least 1")
        if downloads not in ("stream", "redirect"):
            raise ValueError("S3_DOWNLOADS must be 'stream' or 'redirect'")
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size
        self.parts_in_flight = parts_in_flight
        self.downloads = downloads
        self.presign_seconds = presign_seconds
        # Credentials come from the usual places (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
        # a profile, an instance role). Few retries: a user waits on every one of them.
        self.client = client or boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            # No extra checksum per part (CRC32 sent in an aws-chunked trailer, which not every
            # S3-compatible store takes): each part's bytes are still signed with their SHA-256, which
            # the store checks, and the whole file has its own SHA-256, computed on the way in.
            config=Config(signature_version="s3v4", connect_timeout=min(timeout, 5), read_timeout=timeout,
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required",
                          retries={"max_attempts": 2, "mode": "standard"},
                          s3={"addressing_style": addressing_style}))

    def object_name(self, key: str) -> str:
        return self.prefix + check_key(key)

    # -- receiving --------------------------------------------------------------------------
    def new_upload(self, metadata: dict[str, str] | None = None) -> IncomingObject:
        return IncomingObject(self, metadata)

    def keep(self, upload: IncomingObject, expected_sha256: str | None = None) -> str:
        """Complete the upload (or PUT it whole when smaller than a part); returns its key.

        With `expected_sha256`, an upload whose bytes hash otherwise is aborted and
        ValueError raised: the object never appears.
        """
        if expected_sha256 is not None and upload.sha256 != expected_sha256:
            self.discard(upload)
            raise ValueError(f"checksum mismatch: got {upload.sha256}, expected {expected_sha256}")
        name = self.object_name(upload.key)
        try:
            if upload.upload_id is None:
                outbound.guard("attachment store: put object")
                self.client.put_object(Bucket=self.bucket, Key=name, Body=upload._take_buffered(),
                                       Metadata={**upload.metadata, "sha256": upload.sha256})
            else:
                if upload._buffered:
                    upload._send_part(upload._take_buffered())  # the last part may be smaller
                upload._wait_for_parts()
                upload._stop_sender()
                outbound.guard("attachment store: complete upload")
                self.client.complete_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload.upload_id,
                                                      MultipartUpload={"Parts": upload.parts})
        except (BotoCoreError, ClientError) as exc:
            self.discard(upload)
            raise _unavailable("keep", exc) from exc
        upload.state = "kept"
        return upload.key

    def discard(self, upload: IncomingObject) -> None:
        """Forget an upload that will not be kept: its parts are aborted."""
        if upload.state != "receiving":
            return
        upload.state = "discarded"
        upload._take_buffered()
        upload._stop_sender()
        if upload.upload_id is None:
            return
        outbound.guard("attachment store: abort upload")
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.object_name(upload.key),
                                               UploadId=upload.upload_id)
        except (BotoCoreError, ClientError) as exc:
            log.warning("attachment store: abort of %s failed (left for abort_stale_uploads): %s",
                        upload.key, exc)

    # -- kept objects -------------------------------------------------------------------------
    def open(self, key: str) -> StoredObject:
        outbound.guard("attachment store: get object")
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from exc
            raise _unavailable("get object", exc) from exc
        except BotoCoreError as exc:
            raise _unavailable("get object", exc) from exc
        return StoredObject(answer["Body"], answer["ContentLength"])

    def delete(self, key: str) -> None:
        outbound.guard("attachment store: delete object")
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_name(key))
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable("delete object", exc) from exc

    def download_url(self, key: str, filename: str, content_type: str) -> str | None:
        """With S3_DOWNLOADS=redirect, a short-lived signed address of the object, answered as a
        download with its own name (signing is local: no call to the store)."""
        if self.downloads != "redirect":
            return None
        from werkzeug.http import dump_options_header

        disposition = dump_options_header("attachment", _filename_options(filename))
        return self.client.generate_presigned_url("get_object", ExpiresIn=self.presign_seconds, Params={
            "Bucket": self.bucket, "Key": self.object_name(key), "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition, "ResponseCacheControl": "private, max-age=0"})

    def stat(self, key: str) -> dict[str, Any] | None:
        """The object's size and recorded SHA-256 (None when it is not there)."""
        outbound.guard("attachment store: head object")
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise _unavailable("head object", exc) from exc
        except BotoCoreError as exc:
            raise _unavailable("head object", exc) from exc
        return {"size": answer["ContentLength"], "sha256": answer.get("Metadata", {}).get("sha256")}

    def keep_as(self, key: str, stream, size: int, expected_sha256: str) -> None:
        """Store a file under a key it already has (moving files here), verifying its SHA-256."""
        upload = self.new_upload({"sha256": expected_sha256})
        upload.key = check_key(key)
        try:
            while chunk := stream.read(READ_CHUNK):
                upload.write(chunk)
        except BaseException:
            self.discard(upload)
            raise
        if upload.size != size:
            self.discard(upload)
            raise ValueError(f"size mismatch: read {upload.size} bytes, expected {size}")
        self.keep(upload, expected_sha256=expected_sha256)

    def abort_stale_uploads(self, older_than: timedelta) -> int:
        """Abort the multipart uploads under the prefix started more than `older_than` ago."""
        cutoff = datetime.now(timezone.utc) - older_than
        aborted = 0
        outbound.guard("attachment store: list uploads")
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] <= cutoff:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                       UploadId=upload["UploadId"])
                    aborted += 1
        return aborted


def _filename_options(filename: str) -> dict[str, str]:
    try:
        filename.encode("ascii")
        return {"filename": filename}
    except UnicodeEncodeError:
        from urllib.parse import quote
        import unicodedata

        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        return {"filename": simple or "attachment", "filename*": f"UTF-8''{quote(filename, safe='')}"}


def from_config(config: dict) -> S3Storage:
    return S3Storage(
        config["S3_BUCKET"], endpoint_url=config["S3_ENDPOINT_URL"], region=config["S3_REGION"],
        prefix=config["S3_PREFIX"], part_size=config["S3_PART_SIZE"],
        parts_in_flight=config["S3_PARTS_IN_FLIGHT"], downloads=config["S3_DOWNLOADS"],
        presign_seconds=config["S3_PRESIGN_SECONDS"], timeout=config["S3_TIMEOUT_SECONDS"],
        addressing_style=config["S3_ADDRESSING_STYLE"])
