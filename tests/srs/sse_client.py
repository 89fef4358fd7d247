"""A minimal server-sent-events reader for tests: events land on a queue as they arrive."""
from __future__ import annotations

import json
import queue
import threading

import requests

from app.demo.seed import DEMO_PASSWORD
from tests.web.helpers import csrf_token


class EventReader:
    """Reads one event stream on a background thread."""

    def __init__(self, url: str, headers: dict | None = None):
        self.events: queue.Queue[dict] = queue.Queue()
        self.response = requests.get(url, headers=headers or {}, stream=True, timeout=(5, 30))
        self.status_code = self.response.status_code
        self.content_type = self.response.headers.get("Content-Type", "")
        self.thread = threading.Thread(target=self._read, daemon=True)
        if self.status_code == 200:
            self.thread.start()

    def _read(self) -> None:
        event: dict = {}
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                if raw == "":
                    if "data" in event:
                        event["json"] = json.loads(event["data"])
                        self.events.put(event)
                    event = {}
                elif raw.startswith(":"):
                    continue
                else:
                    field, _, value = raw.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    event[field] = event.get(field, "") + ("\n" if field in event and field == "data" else "") + value
        except (requests.RequestException, AttributeError, ValueError):
            return  # closed by the test

    def next(self, timeout: float = 5.0) -> dict:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        self.response.close()


def signed_in_reader(live_server: str, email: str, path: str, headers: dict | None = None,
                     password: str = DEMO_PASSWORD) -> EventReader:
    """The stream at `path`, read as `email` signed in through the login form (as a page reads it)."""
    browser = requests.Session()
    token = csrf_token(browser.get(f"{live_server}/login", timeout=5).text)
    signed_in = browser.post(f"{live_server}/login", data={"email": email, "password": password, "csrf_token": token},
                             allow_redirects=False, timeout=5)
    assert signed_in.status_code == 302
    cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.cookies)
    return EventReader(f"{live_server}{path}", {"Cookie": cookies, **(headers or {})})
