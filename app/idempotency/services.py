"""Requests sent with an Idempotency-Key: the first success is kept and replayed for 48 hours.

A retry with the same key and the same request gets the stored answer; the
same key with another request is a conflict (409). Records are per user.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from app.clock import now
from app.errors import Conflict
from app.idempotency.models import IdempotencyRecord
from app.uow import UnitOfWork, unit_of_work

TTL = timedelta(hours=48)  # SPEC asks for at least 24 h


def fingerprint(scope: Any, body: dict[str, Any]) -> str:
    """What makes two requests the same: their target and their body."""
    canonical = json.dumps({"case_id": scope, "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(uow: UnitOfWork, user_id: int, key: str, request_hash: str) -> dict[str, Any] | None:
    """The stored answer to this request, None if the key is new (or expired); 409 if it named another."""
    previous = uow.session.scalars(sa.select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key,
        IdempotencyRecord.created_at >= now() - TTL)).one_or_none()
    if previous is None:
        return None
    if previous.request_hash != request_hash:
        raise Conflict("This Idempotency-Key was already used for another request.", code="idempotency_key_reused")
    return previous.response


def remember(uow: UnitOfWork, user_id: int, key: str, request_hash: str, status_code: int,
             response: dict[str, Any]) -> None:
    """Keep the answer in the request's own unit of work (an expired record of the key is replaced)."""
    uow.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                           IdempotencyRecord.key == key))
    uow.session.add(IdempotencyRecord(user_id=user_id, key=key, request_hash=request_hash,
                                      status_code=status_code, response=response))


def purge() -> int:
    """Forget keys older than the retention window; returns how many."""
    with unit_of_work() as uow:
        result = uow.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now() - TTL))
        return result.rowcount or 0
