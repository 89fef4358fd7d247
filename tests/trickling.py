"""A receiver that reads the request, then answers one byte at a time for as long as the client
listens: what an outgoing call's total deadline must cut short (webhooks, callbacks, e-mail)."""
from __future__ import annotations

import socket
import threading
import time


class TricklingServer:
    """Answers every request one byte every `pause` seconds, a body of `body_bytes`."""

    def __init__(self, pause: float, path: str = "/hook", body_bytes: int = 1000):
        self.pause = pause
        self.answer = f"HTTP/1.1 200 OK\r\nContent-Length: {body_bytes}\r\n\r\n".encode() + b"x" * body_bytes
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}{path}"
        self.connected = threading.Event()  # a request has been read
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            self.connected.set()
            for byte in self.answer:
                if self.stopped.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(self.pause)

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()
