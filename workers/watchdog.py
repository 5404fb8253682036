"""The hard time limit the solo pool lacks: a model call that outlives it ends the worker process.

Generation already stops at the soft limit (``max_time`` in the model's generation config); this
catches what that cannot stop (a stuck kernel, a tokenizer on a pathological input). The process
exits without acking, so its messages are re-delivered and counted by the attempt counter, and a
message that hangs every time it runs is dead-lettered after ``SLMQ_MAX_ATTEMPTS``.
"""

import contextlib
import logging
import os
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)

EXIT_HARD_TIME_LIMIT = 70


class Watchdog:
    """Ends the process when a guarded block runs longer than ``limit_s``."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s

    @contextlib.contextmanager
    def guard(self, what: str) -> Iterator[None]:
        timer = threading.Timer(self.limit_s, self._expire, args=(what,))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def _expire(self, what: str) -> None:
        log.critical(
            "%s ran past the hard time limit of %.0fs (2 x SLMQ_TASK_TIME_LIMIT_S); exiting so its messages are "
            "re-delivered and counted",
            what,
            self.limit_s,
        )
        logging.shutdown()
        os._exit(EXIT_HARD_TIME_LIMIT)
