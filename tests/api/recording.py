"""Recording the API's answers and comparing them byte for byte (see test_recorded_answers.py).

A `Recorder` sends each request of a journey through the test client, writes
down the request and the answer (status, the headers that matter, the body) and,
unless RECORD_ANSWERS=1, compares that entry at once with the recorded one: the
first difference fails the test with a diff of that one exchange.

What is legitimately random is replaced in `normalise()` and nowhere else.
"""
from __future__ import annotations

import base64
import difflib
import hashlib
import hmac
import io
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest

RECORDED = Path(__file__).resolve().parent / "recorded"
# Set by RECORD_ANSWERS=1: the test writes its recordings instead of comparing with them.
RECORDING = os.environ.get("RECORD_ANSWERS") == "1"

# The answer headers a client acts on; Date, Content-Length and the like are left out.
HEADERS = ("Content-Type", "Location", "Cache-Control", "Content-Disposition", "ETag", "WWW-Authenticate",
           "Allow", "Idempotent-Replayed", "X-Content-Type-Options", "X-Accel-Buffering", "X-Request-ID")
DIFF_LINES = 120


def normalise(method: str, path: str, status: int | None, text: str, receiver_url: str | None) -> str:
    """The one place where random values are replaced in a request body (status None) or an
    answer's body; nothing else is ever rewritten, and headers never are.

    - POST /api/v1/tokens (201): the issued token's secret, "gtac_" and 43 random URL-safe characters;
    - POST /api/v1/webhooks (201): the webhook's signing secret, 43 random URL-safe characters;
    - the loopback webhook receiver's address, whose port the operating system picks, wherever
      it appears (requests and answers of /api/v1/webhooks).
    Each secret is replaced only where it has exactly its documented form: another form is a
    change of the API, and shows as a difference.
    """
    if method == "POST" and path == "/api/v1/tokens" and status == 201:
        text = re.sub(r'"token":"gtac_[A-Za-z0-9_-]{43}"', '"token":"<issued token>"', text)
    if method == "POST" and path == "/api/v1/webhooks" and status == 201:
        text = re.sub(r'"secret":"[A-Za-z0-9_-]{43}"', '"secret":"<signing secret>"', text)
    if receiver_url:
        text = text.replace(receiver_url, "http://<webhook receiver>")
    return text


def flask_json(value) -> str:
    """A value as Flask's JSON provider writes an answer (sorted keys, compact, ASCII, newline)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def body_record(data: bytes) -> dict:
    """A body as recorded, from which its exact bytes follow.

    {"json": v}: the bytes are flask_json(v), kept as JSON so that a change reads well in a diff
    (with "final_newline": false, without flask_json's final newline);
    {"lines": [...]}: UTF-8 text, joined; {"text": s}: UTF-8 text; {"base64": s}: anything else.
    """
    if not data:
        return {"empty": True}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    else:
        if flask_json(value) == text:
            return {"json": value}
        if flask_json(value) == text + "\n":
            return {"json": value, "final_newline": False}
    if "\n" in text.rstrip("\n"):
        return {"lines": text.splitlines(keepends=True)}
    return {"text": text}


class Answer:
    """What the application answered, before normalisation (the journey goes on with real values)."""

    def __init__(self, response):
        self.status = response.status_code
        self.headers = response.headers
        self.data = response.get_data()

    @property
    def json(self):
        return json.loads(self.data)


class Recorder:
    """One journey's exchanges, recorded in tests/api/recorded/<name>.json or compared with it."""

    def __init__(self, name: str, client, headers: dict[str, dict], clock, receiver: Receiver | None = None,
                 recording: bool = False):
        """`recording`: write the file at finish() instead of comparing with it."""
        self.name = name
        self.file = RECORDED / f"{name}.json"
        self.client = client
        self.headers = headers
        self.clock = clock
        self.receiver = receiver
        self.recording = recording
        self.entries: list[dict] = []
        if recording:
            self.expected = None
        else:
            if not self.file.exists():
                pytest.fail(f"{self.file} is missing: record it with RECORD_ANSWERS=1 (see the test's docstring)")
            self.expected = json.loads(self.file.read_text())["exchanges"]

    def call(self, who: str, method: str, path: str, *, json_body=None, query: dict | None = None,
             form: dict | None = None, files: dict | None = None, text: str | None = None,
             content_type: str | None = None, headers: dict | None = None,
             unrecorded_headers: dict | None = None) -> Answer:
        """Send one request as `who` (a demo user's short name, "anonymous", or a name given to
        add_caller), one minute after the previous one, and record or compare the exchange.

        `unrecorded_headers` are sent, and recorded by name only (a signature made with the
        wall clock's time, say)."""
        self.clock.advance(minutes=1)
        target = path + ("?" + urlencode(query) if query else "")
        # Each exchange names its own request id (echoed in the X-Request-ID header and in error
        # bodies); one made up by the service would differ at every run.
        request_id = {"X-Request-ID": f"{self.name}-{len(self.entries) + 1}"}
        sent_headers = {**request_id, **self.headers[who], **(headers or {}), **(unrecorded_headers or {})}
        request = {"as": who, "method": method, "target": target}
        if headers:
            request["headers"] = headers
        if unrecorded_headers:
            request["unrecorded_headers"] = sorted(unrecorded_headers)
        kwargs = {}
        if json_body is not None:
            request["json"] = json_body
            kwargs["json"] = json_body
        elif form is not None or files is not None:
            data = dict(form or {})
            request["form"] = dict(form or {})
            if files:
                request["files"] = {field: {"filename": name, "content": content.decode()}
                                    for field, (name, content) in files.items()}
                data.update({field: (io.BytesIO(content), name) for field, (name, content) in files.items()})
            kwargs.update(data=data, content_type="multipart/form-data")
        elif text is not None:
            request["text"] = text
            request["content_type"] = content_type
            kwargs.update(data=text.encode(), content_type=content_type)
        response = self.client.open(target, method=method, headers=sent_headers, **kwargs)
        answer = Answer(response)
        self._record(request, answer, path)
        return answer

    def add_caller(self, name: str, headers: dict) -> None:
        self.headers[name] = headers

    def deliveries(self) -> list[dict]:
        """What the webhook receiver got since last asked, recorded as one entry."""
        got = self.receiver.take()
        self._check({"webhook_deliveries": got})
        return got

    def _record(self, request: dict, answer: Answer, path: str) -> None:
        receiver_url = self.receiver.url if self.receiver else None
        if "json" in request:
            request["json"] = json.loads(normalise(request["method"], path, None, json.dumps(request["json"]),
                                                   receiver_url))
        headers = {name: answer.headers[name] for name in HEADERS if name in answer.headers}
        try:
            body = normalise(request["method"], path, answer.status, answer.data.decode("utf-8"),
                             receiver_url).encode()
        except UnicodeDecodeError:
            body = answer.data
        self._check({"request": request,
                     "response": {"status": answer.status, "headers": headers, "body": body_record(body)}})

    def _check(self, entry: dict) -> None:
        index = len(self.entries)
        self.entries.append(entry)
        if self.recording:
            return
        if index >= len(self.expected):
            pytest.fail(f"{self.file.name}: exchange {index + 1} is not in the recording (it ends after "
                        f"{len(self.expected)}):\n{pretty(entry)}")
        expected = self.expected[index]
        if canonical(expected) != canonical(entry):
            pytest.fail(f"{self.file.name}: exchange {index + 1} differs from the recording "
                        f"({describe(expected)}):\n{difference(expected, entry)}", pytrace=False)

    def finish(self) -> None:
        """Write the recording, or check that none of it was left unplayed."""
        if self.recording:
            RECORDED.mkdir(exist_ok=True)
            self.file.write_text(json.dumps({"journey": self.name, "exchanges": self.entries},
                                            indent=1, ensure_ascii=False) + "\n")
            return
        if len(self.entries) != len(self.expected):
            pytest.fail(f"{self.file.name}: the journey made {len(self.entries)} exchanges, the recording has "
                        f"{len(self.expected)}; the first one not made:\n{pretty(self.expected[len(self.entries)])}")


def canonical(entry: dict) -> str:
    # Compared as text: in Python 1 == 1.0 == True, in an answer they are three different bytes.
    return json.dumps(entry, sort_keys=True, ensure_ascii=False)


def pretty(entry: dict) -> str:
    return json.dumps(entry, sort_keys=True, indent=2, ensure_ascii=False)


def describe(entry: dict) -> str:
    if "request" not in entry:
        return "webhook deliveries"
    request = entry["request"]
    return f"{request['method']} {request['target']} as {request['as']}"


def body_bytes(record: dict) -> bytes:
    """The exact bytes a body record stands for (see body_record)."""
    if "json" in record:
        text = flask_json(record["json"])
        return (text if record.get("final_newline", True) else text[:-1]).encode()
    if "lines" in record:
        return "".join(record["lines"]).encode()
    if "text" in record:
        return record["text"].encode()
    if "base64" in record:
        return base64.b64decode(record["base64"])
    return b""


def difference(expected: dict, actual: dict) -> str:
    """A unified diff of the two exchanges, and where their bodies' bytes first differ."""
    lines = list(difflib.unified_diff(pretty(expected).splitlines(), pretty(actual).splitlines(),
                                      "recorded", "now", lineterm="", n=4))
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... {len(lines) - DIFF_LINES} more lines of diff"]
    expected_body, actual_body = expected.get("response", {}).get("body"), actual.get("response", {}).get("body")
    if expected_body is not None and actual_body is not None:
        old, new = body_bytes(expected_body), body_bytes(actual_body)
        if old != new:
            at = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
            start = max(at - 40, 0)
            lines.append(f"The bodies' bytes first differ at byte {at} (of {len(old)} recorded, {len(new)} now):")
            lines.append(f"  recorded: {old[start:at + 40]!r}")
            lines.append(f"  now:      {new[start:at + 40]!r}")
    return "\n".join(lines) or "(no visible difference)"


class Receiver:
    """A partner's webhook endpoint on loopback: /ok answers 204, /failing answers 500.

    It verifies each delivery's signature with the secret its registration returned and
    records what the partner would act on, not the signature's random-keyed digest.
    """

    def __init__(self):
        self.received: list[dict] = []
        self.secrets: dict[str, str] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver._got(self.path, self.headers, body)
                self.send_response(204 if self.path.startswith("/ok") else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        self.thread.start()

    def _got(self, path: str, headers, body: bytes) -> None:
        signature = dict(part.split("=", 1) for part in headers.get("X-GTAC-Signature", "").split(",") if "=" in part)
        secret = self.secrets.get(path)
        valid = bool(secret) and hmac.compare_digest(
            hmac.new(secret.encode(), f"{signature.get('t')}.".encode() + body, hashlib.sha256).hexdigest(),
            signature.get("v1", ""))
        with self._lock:
            self.received.append({
                "path": path,
                "headers": {name: headers.get(name) for name in
                            ("Content-Type", "User-Agent", "X-GTAC-Event-Id", "X-GTAC-Event-Type")},
                "signed_at": signature.get("t"), "signature_valid": valid,
                "body": body_record(body)})

    def take(self) -> list[dict]:
        with self._lock:
            got, self.received = self.received, []
        return got

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
