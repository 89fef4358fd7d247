"""Where kept files (case attachments, claim proofs) live: a local folder by default (app/files/s3.py for a bucket).

Uploads stream straight into the storage (never whole in memory), hashed and
counted as they arrive; keeping an upload gives it a generated name, so no path
from the client is ever used. An upload that is not kept is discarded, and
leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO, Protocol

from app.errors import DomainError


class StorageUnavailable(DomainError):
    """The attachment store did not answer (or failed) in time: nothing was kept; try again later."""

    status = 503
    code = "storage_unavailable"


class Incoming:
    """An upload being received: counts and hashes every byte before handing it on."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self.size = 0
        self.state = "receiving"  # then "kept" or "discarded"

    def write(self, data: bytes) -> int:
        self._sha256.update(data)
        self.size += len(data)
        self._write(data)
        return len(data)

    def _write(self, data: bytes) -> None:
        raise NotImplementedError

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


class IncomingFile(Incoming):
    """An upload into a temporary file of the local storage."""

    def __init__(self, directory: Path):
        super().__init__()
        self._file = tempfile.NamedTemporaryFile(dir=directory, prefix="upload-", delete=True)

    def _write(self, data: bytes) -> None:
        self._file.write(data)

    @property
    def name(self) -> str:
        return self._file.name

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def flush(self) -> None:
        self._file.flush()

    def fileno(self) -> int:
        return self._file.fileno()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._file.close()  # deletes the temporary name; a kept upload survives as its link

    @property
    def closed(self) -> bool:
        return self._file.closed

    def __iter__(self):
        return iter(self._file)


class Storage(Protocol):
    def new_upload(self) -> Incoming: ...
    def keep(self, upload: Incoming) -> str: ...
    def discard(self, upload: Incoming) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def download_url(self, key: str, filename: str, content_type: str) -> str | None: ...


def new_key() -> str:
    return uuid.uuid4().hex


def check_key(key: str) -> str:
    if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
        raise ValueError("not a storage key")
    return key


class LocalStorage:
    """Files under one folder: incoming/ for uploads in flight, objects/ for kept ones."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.incoming = self.root / "incoming"
        self.objects = self.root / "objects"

    def _ensure(self) -> None:
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.objects.mkdir(parents=True, exist_ok=True)

    def new_upload(self) -> IncomingFile:
        self._ensure()
        return IncomingFile(self.incoming)

    def keep(self, upload: IncomingFile) -> str:
        """Give a finished upload its permanent generated name; returns the storage key."""
        upload.flush()
        os.fsync(upload.fileno())
        key = new_key()
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(upload.name, target)
        upload.state = "kept"
        return key

    def discard(self, upload: IncomingFile) -> None:
        if upload.state == "receiving":
            upload.state = "discarded"
            upload.close()

    def path(self, key: str) -> Path:
        return self.objects / check_key(key)[:2] / key

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def download_url(self, key: str, filename: str, content_type: str) -> str | None:
        return None  # always served by the application

    def keys(self):
        """Every kept file's key (for moving them elsewhere)."""
        if self.objects.exists():
            for path in self.objects.glob("??/*"):
                if path.is_file():
                    yield path.name
