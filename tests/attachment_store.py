"""The attachment stores the tests run on: the local folder, and an S3 API served on loopback by moto.

moto runs in server mode as a separate process on a free port, so the
application talks real HTTP to a real S3 API (multipart uploads, presigned
URLs, errors). A TCP relay in front of it can be cut to stop the store in the
middle of an upload while moto keeps what it had.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import boto3

from app.files.s3 import MIN_PART_SIZE, S3Storage
from app.files.storage import LocalStorage
from tests.served import free_port

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1"}


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} at start-up")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


class MotoServer:
    """`python -m moto.server` on a free loopback port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **CREDENTIALS})
        wait_for_port(self.port, self.process)
        # Clients kept for the server's life: building one parses botocore's S3 model again, some
        # 7 % of the SQLite leg's CPU when every S3 test built two.
        self._clients: dict[tuple, object] = {}

    def client(self, endpoint: str | None = None):
        """A plain client of the server, to look at buckets as a test."""
        key = ("plain", endpoint or self.url)
        if key not in self._clients:
            self._clients[key] = boto3.client("s3", endpoint_url=key[1], region_name="us-east-1",
                                              aws_access_key_id="testing", aws_secret_access_key="testing")
        return self._clients[key]

    def storage_client(self, endpoint: str, **options):
        """A client configured as S3Storage configures its own for these options."""
        settings = {name: options[name] for name in ("timeout", "addressing_style") if name in options}
        key = ("storage", endpoint, tuple(sorted(settings.items())))
        if key not in self._clients:
            self._clients[key] = S3Storage("any", endpoint_url=endpoint, region="us-east-1", **settings).client
        return self._clients[key]

    def new_bucket(self) -> str:
        name = f"gtac-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class Relay:
    """A TCP relay to the store that can be cut (connections reset, new ones refused) and restored."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        if listener is not None:
            listener.close()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Store:
    """What a test sees of the store in use: the kept objects and the uploads still in flight."""

    def __init__(self, storage, s3: MotoServer | None = None):
        self.storage = storage
        self.s3 = s3
        self.kind = "s3" if s3 is not None else "local"

    def kept(self) -> set[str]:
        """The storage keys of every kept file."""
        if self.kind == "local":
            return set(self.storage.keys())
        client = self.s3.client()
        found = set()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.storage.bucket):
            found |= {item["Key"].removeprefix(self.storage.prefix) for item in page.get("Contents", [])}
        return found

    def in_flight(self) -> list[str]:
        """Uploads begun and neither kept nor discarded (temporary files; open multipart uploads)."""
        if self.kind == "local":
            incoming = self.storage.incoming
            return sorted(p.name for p in incoming.iterdir()) if incoming.exists() else []
        answer = self.s3.client().list_multipart_uploads(Bucket=self.storage.bucket)
        return sorted(upload["Key"] for upload in answer.get("Uploads", []))

    def everything(self) -> tuple[set[str], list[str]]:
        return self.kept(), self.in_flight()


def s3_storage(server: MotoServer, endpoint: str | None = None, **options) -> S3Storage:
    options.setdefault("part_size", MIN_PART_SIZE)
    endpoint = endpoint or server.url
    return S3Storage(server.new_bucket(), endpoint_url=endpoint, region="us-east-1",
                     client=server.storage_client(endpoint, **options), **options)


def current_store(app) -> Store:
    """The store the application uses right now: the attachment_store fixture's, else the local folder."""
    store = app.extensions.get("attachment_store")
    if store is not None:
        return store
    storage = app.extensions["attachment_storage"]
    assert isinstance(storage, LocalStorage)
    return Store(storage)
