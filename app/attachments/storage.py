"""Where attachment bytes live. Local folder by default, behind a small interface.

Uploads stream straight into a temporary file of the storage (never whole in
memory), hashed as they arrive; keeping an upload links it under a generated
name, so no path from the client is ever used.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO, Protocol


class IncomingFile:
    """A file being received: counts and hashes every byte written to it."""

    def __init__(self, directory: Path):
        self._file = tempfile.NamedTemporaryFile(dir=directory, prefix="upload-", delete=True)
        self._sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._sha256.update(data)
        self.size += len(data)
        return self._file.write(data)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

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

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        self._file.close()  # deletes the temporary name; a kept upload survives as its link

    @property
    def closed(self) -> bool:
        return self._file.closed

    def __iter__(self):
        return iter(self._file)


class Storage(Protocol):
    def new_upload(self) -> IncomingFile: ...
    def keep(self, upload: IncomingFile) -> str: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...


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
        key = uuid.uuid4().hex
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(upload.name, target)
        return key

    def _path(self, key: str) -> Path:
        if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("not a storage key")
        return self.objects / key[:2] / key

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
