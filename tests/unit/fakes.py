"""Fakes for unit tests of the delivery logic: an in-memory ledger, a clock-driven timer, Celery-like requests.

Each replaces a service (Redis, kombu's timer, a decoded Celery message), never the rule a test checks.
"""

import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis

from slmq.errors import SlmqError
from workers.delivery import Delivery, DeliveryLedger
from workers.model.tasktypes import Outcome


class MemoryLedger(DeliveryLedger):
    """The DeliveryLedger with its Redis and result backend replaced by dicts (its own rules kept: ``exhausted``);
    reads or counts can be made to fail like an unreachable Redis."""

    def __init__(self, failed_reads: int = 0, counting_fails: bool = False) -> None:
        super().__init__(client=None, backend=None, queue="slmq.tiny", max_attempts=3, expires_s=60)  # type: ignore[arg-type]
        self.failed_reads = failed_reads
        self.counting_fails = counting_fails
        self.attempts: dict[str, int] = {}
        self.results: dict[str, Outcome] = {}
        self.letters: dict[str, tuple[Delivery, SlmqError]] = {}

    def stored(self, names: dict[str, str]) -> dict[str, Outcome]:
        if self.failed_reads:
            self.failed_reads -= 1
            raise redis.ConnectionError("Connection refused")
        return {task_id: self.results[task_id] for task_id in names if task_id in self.results}

    def started(self, task_ids: Iterable[str]) -> dict[str, int]:
        return {task_id: self.attempts.get(task_id, 0) for task_id in task_ids}

    def count(self, task_ids: Iterable[str]) -> None:
        if self.counting_fails:
            raise redis.TimeoutError("Timeout reading from socket")
        for task_id in task_ids:
            self.attempts[task_id] = self.attempts.get(task_id, 0) + 1

    def dead_letter(self, delivery: Delivery, error: SlmqError, attempts: int, reason: str) -> None:
        self.letters[delivery.task_id] = (delivery, error)


class FakeTimer:
    """kombu's consumer timer on a clock the test moves: ``call_after`` entries fire when ``advance`` passes them."""

    def __init__(self) -> None:
        self.now = 0.0
        self._entries: list[tuple[float, int, TimerEntry]] = []
        self._order = itertools.count()

    def call_after(self, seconds: float, callback: Callable[[], None]) -> "TimerEntry":
        entry = TimerEntry(callback)
        heapq.heappush(self._entries, (self.now + seconds, next(self._order), entry))
        return entry

    def advance(self, seconds: float) -> None:
        until = self.now + seconds
        while self._entries and self._entries[0][0] <= until:
            due, _, entry = heapq.heappop(self._entries)
            self.now = due
            if not entry.cancelled:
                entry.callback()
        self.now = until

    @property
    def pending(self) -> int:
        return sum(not entry.cancelled for _, _, entry in self._entries)


@dataclass
class TimerEntry:
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeRequest:
    """What the batcher reads of a Celery request: id, name, arguments, the message's headers; ``reject``."""

    id: str
    name: str = "slmq.general"
    kwargs: dict[str, Any] = field(default_factory=dict)
    args: tuple[Any, ...] = ()
    request_dict: dict[str, Any] = field(default_factory=dict)
    rejected: bool = False

    def __post_init__(self) -> None:
        self.kwargs = self.kwargs or {"payload": {"text": self.id}}

    def reject(self, requeue: bool = False) -> None:
        assert requeue, "the batcher only puts messages back"
        self.rejected = True


class FakeConsumer:
    """The two things the batcher takes from Celery's consumer: its timer and ``on_task_request``."""

    def __init__(self) -> None:
        self.timer = FakeTimer()
        self.executed: list[str] = []
        self.on_task_request: Callable[[Any], None] = lambda request: self.executed.append(request.id)


def ids(requests: Iterable[FakeRequest]) -> list[str]:
    return [request.id for request in requests]
