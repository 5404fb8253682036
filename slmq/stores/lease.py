"""A Redis key held by one process at a time, renewed in the background until it is released."""

import contextlib
import os
import socket
import threading
import uuid
from types import TracebackType

import redis

_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class Lease:
    """Holds ``key`` while acquired (renewed every third of ``ttl_s``); a dead holder's lease lapses after ``ttl_s``."""

    def __init__(self, client: redis.Redis, key: str, ttl_s: float) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = int(ttl_s * 1000)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        """Take the lease if nobody holds it, and keep it renewed; False when someone else holds it."""
        if not self.client.set(self.key, self.token, nx=True, px=self.ttl_ms):
            return False
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name=f"lease:{self.key}", daemon=True)
        self._renewer.start()
        return True

    def holder(self) -> str | None:
        """Who holds the lease now (``host:pid:nonce``), if anyone."""
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else None

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
            self._renewer = None
        self.client.eval(_RELEASE, 1, self.key, self.token)

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            # A failed renewal is tried again; the lease lapses only if Redis stays away for ttl_s.
            with contextlib.suppress(redis.RedisError):
                self.client.eval(_RENEW, 1, self.key, self.token, self.ttl_ms)

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
