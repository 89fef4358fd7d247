"""Keyset pagination: an opaque cursor naming the last id of the previous page (or, for a list in
alphabetical order, the last name and id)."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import marshmallow as ma
from marshmallow import fields, validate

from app.bounds import MAX_ID, Count, unstorable_text
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
        if isinstance(before, bool) or not isinstance(before, int) or not 1 <= before <= MAX_ID:
            raise ValueError(before)
        return before
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidInput("The cursor is not one this API issued.", code="invalid_cursor",
                           details={"cursor": cursor[:100]}) from None


# Far longer than any name a cursor in name order carries (an organisation's, a user's).
LONGEST_NAME = 1000


def encode_name_cursor(name: str, last_id: int) -> str:
    raw = json.dumps({"after": [name, last_id]}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_name_cursor(cursor: str) -> tuple[str, int]:
    """The (name, id) a page in name order ends on; anything else is the 400 of a forged cursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
        if (not isinstance(name, str) or unstorable_text(name) or len(name) > LONGEST_NAME
                or isinstance(last_id, bool) or not isinstance(last_id, int) or not 1 <= last_id <= MAX_ID):
            raise ValueError(last_id)
        return name, last_id
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidInput("The cursor is not one this API issued.", code="invalid_cursor",
                           details={"cursor": cursor[:100]}) from None


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def newest_first(rows: Any, ids: Any, id_column: Any, limit: Any) -> Any:
    """`rows` (a select) of the newest `limit` ids that `ids` (a select of `id_column`) finds, newest first.

    The page's ids are chosen first, from the scope's (tenant, id) index alone,
    then their rows are loaded: otherwise PostgreSQL may walk the primary key
    backwards and filter, which gets slower with every newer row of other tenants.
    """
    page_ids = ids.order_by(id_column.desc()).limit(limit)
    return rows.where(id_column.in_(page_ids.scalar_subquery())).order_by(id_column.desc())


def paginate(session, query, id_column, limit: int, cursor: str | None) -> Page[Any]:
    """Newest first (newest_first()); one query of limit+1 rows tells whether another page exists."""
    if cursor:
        query = query.where(id_column < decode_cursor(cursor))
    return keyset_page(list(session.scalars(newest_first(query, query.with_only_columns(id_column), id_column,
                                                         limit + 1))), limit)


def keyset_page(rows: list, limit: int) -> Page[Any]:
    """A page of `limit` from up to limit+1 rows read newest first (the one past it: another page exists)."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if has_more else None)


class PageQuerySchema(ma.Schema):
    limit = Count(minimum=1, maximum=MAX_LIMIT, load_default=DEFAULT_LIMIT,
                  metadata={"description": f"page size, 1 to {MAX_LIMIT}"})
    cursor = fields.String(validate=validate.Length(min=1, max=200),
                           metadata={"description": "next_cursor of the previous page"})
