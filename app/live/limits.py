"""How many live streams may be open: per user, and per web process.

A stream holds a server thread for up to SR_EVENTS_MAX_SECONDS. Without a cap,
one user opening forty tabs (or a script) takes every thread of every worker,
and ordinary requests, /healthz included, time out. So:
- a user may hold SR_EVENTS_MAX_PER_USER streams at once, across every web
  process when Redis is configured (429 beyond it);
- a web process serves at most SR_EVENTS_MAX_PER_PROCESS streams (503 beyond
  it), fewer than its threads, so ordinary requests always find a thread.
A slot is released when its stream ends; slots in Redis also expire on their
own a little after the longest a stream may last, so a killed process frees them.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from redis import Redis
from redis.exceptions import RedisError

from app.errors import DomainError

log = logging.getLogger(__name__)

# Drops a user's expired slots, then takes one if fewer than the cap are held (atomically).
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class TooManyStreams(DomainError):
    status = 429
    code = "too_many_streams"


class StreamsBusy(DomainError):
    status = 503
    code = "streams_busy"


@dataclass
class Slot:
    limiter: StreamLimiter
    user_id: int
    token: str
    released: bool = field(default=False)

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.limiter.release(self)


class StreamLimiter:
    """Counts open streams; per user in Redis when configured (so across processes), else here."""

    def __init__(self, per_user: int, per_process: int, max_seconds: int, redis_url: str | None = None):
        self.per_user = per_user
        self.per_process = per_process
        self.max_seconds = max_seconds
        self._lock = threading.Lock()
        self._open = 0
        self._by_user: dict[int, int] = {}
        self._redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2) if redis_url else None

    def acquire(self, user_id: int) -> Slot:
        """A slot for one more stream of this user, or TooManyStreams / StreamsBusy."""
        with self._lock:
            if self._open >= self.per_process:
                raise StreamsBusy("Too many live streams are open on this server; try again in a minute.",
                                  details={"retry_after_seconds": 60})
            if self._redis is None and self._by_user.get(user_id, 0) >= self.per_user:
                raise self._too_many()
            self._open += 1
            self._by_user[user_id] = self._by_user.get(user_id, 0) + 1
        slot = Slot(self, user_id, uuid.uuid4().hex)
        if self._redis is not None and not self._take_shared(slot):
            slot.release()
            raise self._too_many()
        return slot

    def _too_many(self) -> TooManyStreams:
        return TooManyStreams(f"You have {self.per_user} live streams open already; close one (another tab or "
                              "page) first.", details={"limit": self.per_user, "retry_after_seconds": 30})

    def _take_shared(self, slot: Slot) -> bool:
        now = time.time()
        # A slot outlives its stream by a minute at most if the process died without releasing it.
        expires = now + self.max_seconds + 60
        try:
            return bool(self._redis.eval(_TAKE, 1, self._key(slot.user_id), now, expires, self.per_user,
                                         slot.token, self.max_seconds + 120))
        except RedisError:
            log.warning("live streams: Redis unavailable, counting user %s's streams in this process only",
                        slot.user_id)
            with self._lock:
                return self._by_user.get(slot.user_id, 0) <= self.per_user

    def release(self, slot: Slot) -> None:
        with self._lock:
            self._open -= 1
            left = self._by_user.get(slot.user_id, 1) - 1
            if left:
                self._by_user[slot.user_id] = left
            else:
                self._by_user.pop(slot.user_id, None)
        if self._redis is not None:
            try:
                self._redis.zrem(self._key(slot.user_id), slot.token)
            except RedisError:
                pass  # the slot expires on its own

    @staticmethod
    def _key(user_id: int) -> str:
        return f"gtac:live:streams:user:{user_id}"

    @property
    def open_streams(self) -> int:
        return self._open
