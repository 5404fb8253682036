"""Time limits for the solo pool, which has none of its own: a soft limit per model call, and a hard one.

Soft: every ``generate()`` inside a guarded model call shares one time budget (the watchdog is a
``GenerationHook`` of the runner, and both engines stop at a call's ``max_time``), so a generation
that would never end (or a re-ask loop) stops at ``SLMQ_TASK_TIME_LIMIT_S`` and its output is judged
as it is. Hard: a guarded block
still running after twice that (a stuck kernel, a tokenizer on a pathological input) ends the worker
process without acking; its messages are re-delivered and counted by the attempt counter, so a
message that hangs every time it runs is dead-lettered after ``SLMQ_MAX_ATTEMPTS``. Work set aside inside a
guarded block (``aside``: storing a result found before the block ends) counts against neither limit.
"""

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator

from slmq.errors import SlmqError
from workers.model.runner import Generation

log = logging.getLogger(__name__)

EXIT_HARD_TIME_LIMIT = 70
MIN_GENERATION_S = 0.05  # what a generate() started after the budget is spent still gets


class Watchdog:
    """Guards model calls: a shared generation budget of ``soft_s``, and process exit after ``hard_s``."""

    def __init__(self, soft_s: float, hard_s: float) -> None:
        self.soft_s = soft_s
        self.hard_s = hard_s
        self._deadline: float | None = None
        self._hard_deadline = 0.0
        self._what = ""
        self._timer: threading.Timer | None = None

    def time_budget(self) -> float | None:
        """What is left of the guarded block's budget (a ``GenerationHook``); no limit outside a guarded block."""
        return None if self._deadline is None else max(MIN_GENERATION_S, self._deadline - time.monotonic())

    def generated(self, generations: list[Generation | SlmqError], seconds: float) -> None:
        """Nothing to do after a call: the budget is shared by every call in the block."""

    @contextlib.contextmanager
    def guard(self, what: str) -> Iterator[None]:
        self._what = what
        self._deadline = time.monotonic() + self.soft_s
        self._hard_deadline = time.monotonic() + self.hard_s
        self._arm()
        try:
            yield
        finally:
            self._disarm()
            self._deadline = None

    @contextlib.contextmanager
    def aside(self) -> Iterator[None]:
        """Work inside a guarded block that is not the model's (storing a result found early in Redis, which may be
        slow to answer): neither limit runs meanwhile; both are moved on by the time it took."""
        if self._deadline is None:
            yield
            return
        self._disarm()
        started = time.monotonic()
        try:
            yield
        finally:
            spent = time.monotonic() - started
            self._deadline += spent
            self._hard_deadline += spent
            self._arm()

    def _arm(self) -> None:
        self._timer = threading.Timer(max(0.0, self._hard_deadline - time.monotonic()), self._expire, (self._what,))
        self._timer.daemon = True
        self._timer.start()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self, what: str) -> None:
        log.critical(
            "%s ran past the hard time limit of %.0fs (2 x SLMQ_TASK_TIME_LIMIT_S); exiting so its messages are "
            "re-delivered and counted",
            what,
            self.hard_s,
        )
        logging.shutdown()
        os._exit(EXIT_HARD_TIME_LIMIT)
