"""Keyset pagination: an opaque cursor naming the last id of the previous page."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import marshmallow as ma
from marshmallow import fields, validate

from app.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 100
DEFAULT_LIMIT = 25


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"before": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        before = data["before"]
        if isinstance(before, bool) or not isinstance(before, int) or before < 1:
            raise ValueError(before)
        return before
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidInput("The cursor is not one this API issued.", code="invalid_cursor",
                           details={"cursor": cursor[:100]}) from None


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def paginate(session, query, id_column, limit: int, cursor: str | None) -> Page[Any]:
    """Newest first; one query of limit+1 rows tells whether another page exists."""
    if cursor:
        query = query.where(id_column < decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(id_column.desc()).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if has_more else None)


class PageQuerySchema(ma.Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(validate=validate.Length(min=1, max=200))
