"""Fan-out of live SR events to the event streams open in this process.

Every web process keeps one in-process hub of subscriptions. With Redis
(REDIS_URL) a change published by any process reaches every process through
one pattern subscription per process; on the embedded default the hub is fed
directly, which is enough for a single process.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "gtac:srs:"


class Subscription:
    """Messages of some channels, for one reader (one event stream)."""

    def __init__(self, hub: Hub, channels: tuple[str, ...]):
        self.hub = hub
        self.channels = channels
        self.messages: queue.SimpleQueue[str] = queue.SimpleQueue()

    def get(self, timeout: float) -> str | None:
        """The next message, or None when none came within `timeout` seconds."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.hub.unsubscribe(self)


class Hub:
    """Channel -> subscriptions of this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, channels: tuple[str, ...]) -> Subscription:
        subscription = Subscription(self, channels)
        with self._lock:
            for channel in channels:
                self._subscriptions.setdefault(channel, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            for channel in subscription.channels:
                readers = self._subscriptions.get(channel)
                if readers is not None:
                    readers.discard(subscription)
                    if not readers:
                        del self._subscriptions[channel]

    def deliver(self, channel: str, message: str) -> int:
        with self._lock:
            readers = list(self._subscriptions.get(channel, ()))
        for reader in readers:
            reader.messages.put(message)
        return len(readers)

    def count(self) -> int:
        with self._lock:
            return len({s for readers in self._subscriptions.values() for s in readers})


class InProcessBroker:
    """The embedded default: publishers and streams share this process."""

    def __init__(self):
        self.hub = Hub()

    def publish(self, channel: str, message: str) -> None:
        self.hub.deliver(channel, message)

    def subscribe(self, channels: tuple[str, ...]) -> Subscription:
        return self.hub.subscribe(channels)


class RedisBroker:
    """Redis pub/sub between processes; one listener thread per process feeds the local hub."""

    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self.hub = Hub()
        self._publisher: Redis | None = None
        self._listener: threading.Thread | None = None
        self._listener_pid: int | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def publisher(self) -> Redis:
        if self._publisher is None:
            self._publisher = Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=5)
        return self._publisher

    def publish(self, channel: str, message: str) -> None:
        self.publisher.publish(PREFIX + channel, message)

    def subscribe(self, channels: tuple[str, ...]) -> Subscription:
        subscription = self.hub.subscribe(channels)
        self._ensure_listener()
        return subscription

    def _ensure_listener(self) -> None:
        with self._lock:
            # A forked process (gunicorn) inherits the attribute but not the thread.
            if self._listener is not None and self._listener_pid == os.getpid() and self._listener.is_alive():
                return
            self._ready.clear()
            self._listener_pid = os.getpid()
            self._listener = threading.Thread(target=self._listen, name="sr-events", daemon=True)
            self._listener.start()
        # Streams replay from the database after subscribing; the listener must be live by then.
        if not self._ready.wait(timeout=5):
            log.warning("sr events: Redis subscription not confirmed within 5 s")

    def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                connection = Redis.from_url(self.redis_url, socket_connect_timeout=2, health_check_interval=30)
                pubsub = connection.pubsub(ignore_subscribe_messages=False)
                pubsub.psubscribe(PREFIX + "*")
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        self._ready.set()
                        delay = 0.5
                    elif message["type"] == "pmessage":
                        channel = message["channel"].decode()[len(PREFIX):]
                        self.hub.deliver(channel, message["data"].decode())
            except RedisError:
                log.exception("sr events: Redis subscription lost, reconnecting in %.1f s", delay)
                time.sleep(delay)
                delay = min(delay * 2, 30)


def make_broker(redis_url: str | None):
    return RedisBroker(redis_url) if redis_url else InProcessBroker()
