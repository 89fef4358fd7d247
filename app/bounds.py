"""What a request may carry at most, in one place: ids and counts within their columns, JSON
nesting, text the database can store, patterns matched whole, ASCII digits, times.

Every input field that names a record or counts something uses RecordId or Count, so that
no number beyond the INTEGER columns reaches a query (PostgreSQL refuses 2^31 with an
error, SQLite 2^63), and the OpenAPI document states the same bounds.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from typing import Any

from marshmallow import ValidationError, fields, validate

# Ids are INTEGER columns (32-bit on PostgreSQL): nothing larger names a record.
MAX_ID = 2**31 - 1
# Counts and positions kept in INTEGER columns (event ids to replay after, levels, lines).
MAX_COUNT = 2**31 - 1
# No body of this API nests more than a few levels; the check stops well short of the stack.
MAX_JSON_DEPTH = 32

# Times a request gives back (a feed's `since`, a cursor's due time): far from datetime's own limits, so
# that neither a shift to UTC nor a few seconds' slack overflows.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST_TIME = datetime(9000, 1, 1, tzinfo=timezone.utc)
# Days a file or a request gives (a contract's end, a certification's expiry): so far from date.max that
# moving them years later (an extension of certifications) never overflows.
EARLIEST_DAY, LATEST_DAY = EARLIEST_TIME.date(), date(8999, 12, 31)

UNSTORABLE = "Contains a NUL character or invalid Unicode."
TOO_DEEP = "Nested too deeply."


def ascii_digits(text: str, max_length: int | None = None) -> bool:
    """True for 0-9 only. str.isdigit() also takes superscripts (which int() refuses) and
    other scripts' digits (which int() takes, so they would be stored as if typed in ASCII)."""
    return (bool(text) and text.isascii() and text.isdigit()
            and (max_length is None or len(text) <= max_length))


class _BoundedInteger(fields.Integer):
    """An integer in [minimum, maximum]; a string (in a query) of ASCII digits only, never a bool."""

    minimum = 0
    maximum = MAX_COUNT

    def __init__(self, *, strict: bool = False, minimum: int | None = None, maximum: int | None = None,
                 **kwargs):
        # strict: a JSON number only (bodies); otherwise digits in a string too (query strings).
        # A narrower range may be given, never a wider one.
        self.minimum = self.minimum if minimum is None else max(minimum, self.minimum)
        self.maximum = self.maximum if maximum is None else min(maximum, self.maximum)
        super().__init__(strict=strict, validate=validate.Range(min=self.minimum, max=self.maximum), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, str):
            # A query string sends a number's digits, and only digits.
            if self.strict or not ascii_digits(value, len(str(self.maximum))):
                raise self.make_error("invalid")
        elif not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class RecordId(_BoundedInteger):
    """The id of a record: 1 to MAX_ID."""

    minimum = 1
    maximum = MAX_ID


class Count(_BoundedInteger):
    """A count or a position (such as the last event id seen): 0 to MAX_COUNT."""

    minimum = 0
    maximum = MAX_COUNT


def is_record_id(value: Any) -> bool:
    """For services that check raw JSON values themselves (checklist responses)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


class WholeMatch(validate.Regexp):
    """marshmallow's Regexp matches at the start only, so `$` lets a trailing newline through;
    this one matches the whole value.

    The pattern is kept as ^...$ for the OpenAPI document, where JSON Schema reads it with
    ECMA-262 rules ($ is the very end there); fullmatch() gives Python the same meaning.
    """

    def __init__(self, regex: str | re.Pattern, flags: int = 0, *, error: str | None = None):
        source, flags = (regex.pattern, regex.flags) if isinstance(regex, re.Pattern) else (regex, flags)
        core = source.removeprefix("^").removesuffix(r"\Z")
        if "|" in core:
            core = f"(?:{core})"
        super().__init__(f"^{core}$", flags, error=error)

    def __call__(self, value):
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def whole(pattern: str | re.Pattern, text: str) -> re.Match | None:
    """The match of the whole text, or None (never a prefix, never up to a trailing newline)."""
    return re.fullmatch(pattern, text) if isinstance(pattern, str) else pattern.fullmatch(text)


def unstorable_text(text: str) -> bool:
    """A NUL (PostgreSQL text refuses it) or half a surrogate pair (no UTF-8 encoding)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unstorable_messages(value: Any, depth: int = 0) -> Any:
    """Field errors shaped like marshmallow's ({field: [message]}, list items by index) for every
    unstorable string and every container nested beyond MAX_JSON_DEPTH; None when there is none."""
    if isinstance(value, str):
        return [UNSTORABLE] if unstorable_text(value) else None
    if not isinstance(value, (dict, list)):
        return None
    if depth >= MAX_JSON_DEPTH:
        return [TOO_DEEP]
    items = value.items() if isinstance(value, dict) else enumerate(value)
    found: dict = {}
    for key, item in items:
        if isinstance(key, str) and unstorable_text(key):
            found["_schema"] = [UNSTORABLE]
        elif messages := unstorable_messages(item, depth + 1):
            found[key] = messages
    return found or None


def unstorable_fields(*sources: dict[str, list[str]]) -> dict:
    """Field errors for each name or value of these (the path, the query, a form: lists of values by
    name) that the database cannot store; empty when there is none."""
    found: dict = {}
    for source in sources:
        for name, value in source.items():
            if not isinstance(name, str) or unstorable_text(name):  # a multipart part may come without a name
                found["_schema"] = [UNSTORABLE]
            elif messages := unstorable_messages(value):
                found[name] = messages if isinstance(messages, list) else [UNSTORABLE]
    return found


def refuse_unstorable(data: Any) -> None:
    """Raise marshmallow field errors for text the database cannot store or nesting too deep."""
    messages = unstorable_messages(data)
    if messages:
        if not isinstance(messages, dict):
            messages = {"_schema": messages}
        raise ValidationError(messages)


class MalformedJSON(ValueError):
    """Not JSON, or JSON beyond what this service takes (depth, huge integer literals)."""


def depth(value: Any) -> int:
    """How deep lists and objects nest in decoded JSON (iteratively: no recursion to run out of)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads_json(body: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads within this service's bounds; MalformedJSON otherwise."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise MalformedJSON("not UTF-8") from exc
    try:
        # The decoder stops at the interpreter's recursion limit (RecursionError), long before the
        # C stack; ValueError also covers integer literals of more than 4300 digits.
        data = json.loads(text)
    except (RecursionError, ValueError) as exc:
        raise MalformedJSON(str(exc)[:200]) from None
    if depth(data) > max_depth:
        raise MalformedJSON(f"nested deeper than {max_depth} levels")
    return data


def utc_time(text: str) -> datetime:
    """An ISO 8601 time with its UTC offset, in UTC; ValueError for anything else, or one outside
    EARLIEST_TIME to LATEST_TIME."""
    if len(text) > 40:
        raise ValueError("too long for a time")
    given = datetime.fromisoformat(text)
    if given.tzinfo is None:
        raise ValueError("a time without its UTC offset")
    try:
        value = given.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("out of range") from None
    if not EARLIEST_TIME <= value <= LATEST_TIME:
        raise ValueError("out of range")
    return value


def form_id(value: Any) -> int:
    """An id chosen in a page's form or query (0: none chosen): ASCII digits up to MAX_ID. ValueError
    otherwise, which a form takes as an invalid choice and `request.args.get(type=...)` as not given."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and ascii_digits(value, len(str(MAX_ID))):
        number = int(value)
    else:
        raise ValueError("not an id")
    if not 0 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


def optional_form_id(value: Any) -> int | None:
    """form_id, or None for a choice left empty."""
    return None if value in ("", None) else form_id(value)

