"""Log lines as JSON, each carrying the id of the request it belongs to.

The id comes from the caller's X-Request-ID when it is a plain token (else one is
made up), is echoed in the answer's header and in error bodies, is written on every
outbox event the request causes and is bound again while that event's job runs, so
that one grep follows a request through the web process and the workers.

Nothing secret is logged: the places that handle passwords, tokens, bank details
and signing secrets log none of them (tests/unit/test_logs.py greps a whole journey).
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import Flask, request

HEADER = "X-Request-ID"
# Another system's id is kept only if it is short and plain: it ends up in log lines and headers.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:@-]{1,128}\Z")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


@contextmanager
def request_id_bound(value: str | None) -> Iterator[None]:
    """Log lines (and events emitted) inside carry `value`: a job runs under its request's id."""
    token = _request_id.set(value)
    try:
        yield
    finally:
        _request_id.reset(token)


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _WithRequestId(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = current_request_id()
        return f"{line} [request {request_id}]" if request_id else line


def configure(log_format: str, level: int = logging.INFO) -> None:
    """The root logger's one handler (stderr), in JSON lines or, asked for, plain text."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json"
                         else _WithRequestId("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_gtac", False)]:
        root.removeHandler(old)
    handler._gtac = True  # type: ignore[attr-defined]  # replaced, not added twice, by a second app
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    """Registered before every other request hook, so that even a refused request has its id."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_echo)
    app.teardown_request(_end)


def _begin() -> None:
    offered = request.headers.get(HEADER, "")
    request.environ["gtac.request_id_token"] = _request_id.set(
        offered if _ACCEPTED.match(offered) else uuid.uuid4().hex)


def _echo(response):
    request_id = current_request_id()
    if request_id:
        response.headers[HEADER] = request_id
    return response


def _end(_error=None) -> None:
    token = request.environ.pop("gtac.request_id_token", None)
    if token is not None:
        _request_id.reset(token)
