"""Domain errors and their mapping to the SPEC §10 error body.

Services raise these; one handler turns any of them, and any HTTP error from
Flask itself, into {"error": {"code", "message", "details"}}.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from app.bounds import EARLIEST_DAY, LATEST_DAY
from app.logs import current_request_id


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details: dict[str, Any] = details or {}


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class RuleViolation(DomainError):
    """Well-formed but refused by a business rule (422)."""

    status = 422
    code = "rule_violation"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    body = {"code": code, "message": message, "details": details or {}}
    request_id = current_request_id()
    if request_id:  # what to quote to support, and what finds the request's log lines
        body["request_id"] = request_id
    return {"error": body}


def refuse_days_out_of_range(**days: date | None) -> None:
    """InvalidInput naming each given day outside EARLIEST_DAY to LATEST_DAY (app.bounds): the services
    that keep a day someone typed (a contract's term, a period, a level's dates) take none the imports
    refuse."""
    found = {name: [f"Between {EARLIEST_DAY} and {LATEST_DAY}."] for name, day in days.items()
             if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY}
    if found:
        raise InvalidInput("A date is out of range.", details={"fields": found})
