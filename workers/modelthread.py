"""The model's own thread, so that Celery's event loop stays free while a batch runs.

A batch can run for minutes (a full batch of long generations; a batch that others join under steady load runs up
to half the time limit). On the event loop's thread, everything else the loop does would wait that long: worker
heartbeats (Flower shows a worker offline four seconds after its last one), remote control (``slmq status`` and
``celery inspect`` see no worker; ``slmq parse`` would start a second one), and the pops that bring the messages
that join the batch. So the batcher hands each batch to one thread of its own, and hands back to the loop what
Celery's objects need done on the loop's thread (a result stored, then its message acked; a message put back):
kombu's channel and Celery's request are not thread-safe, and only the loop uses them.

The model is loaded and warmed up on that thread too (``call``), and no torch work runs on the main thread: once the
main thread has run one of torch's parallel CPU kernels, the same kernels on any other thread took 1.3-1.7x as long
(SmolLM2, a forward of 16 rows, fp32 and bf16, 2-vCPU Xeon; ``bench/threads.py``), and the served notes/s fell to
0.57x.

Without an event loop (a consumer with no hub, e.g. in tests of the batcher's rules) the batch runs in the caller's
thread, as the handing back does.
"""

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)
DRAIN_POLL_S = 0.05  # how often a stopping consumer looks again for the batch's end (it is woken before that)
T = TypeVar("T")


class Handoff(Protocol):
    """Where the batcher runs a batch, and how the batch gets work done on the event loop's thread."""

    def start(self, work: Callable[[], None]) -> None:
        """Run ``work`` (one batch; only one at a time)."""

    def on_loop(self, call: Callable[[], None]) -> None:
        """Run ``call`` on the event loop's thread, and return once it has run."""

    def drain(self) -> None:
        """On the event loop's thread, as the consumer stops: wait for the batch in hand to end, running what it hands
        back meanwhile, here."""


class Inline:
    """No event loop to keep free: the batch runs in the caller's thread, and so does what it hands back."""

    def start(self, work: Callable[[], None]) -> None:
        work()

    def on_loop(self, call: Callable[[], None]) -> None:
        call()

    def drain(self) -> None:
        """Nothing runs after ``start`` returns."""


class ModelThread:
    """Runs each batch on one thread of its own while kombu's event loop (the ``hub`` it is attached to) goes on; what a
    batch hands back runs on the loop (woken through the hub's ``call_soon``, which is thread-safe), in order."""

    def __init__(self, hub: Any = None) -> None:
        self.hub = hub
        self._work: deque[Callable[[], None]] = deque()
        self._busy = False  # a batch is running or waiting to
        self._pending: deque[tuple[Callable[[], None], threading.Event]] = deque()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self, work: Callable[[], None]) -> None:
        with self._changed:
            self._work.append(work)
            self._busy = True
            self._changed.notify_all()
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="slmq-model", daemon=True)
            self._thread.start()

    def attach(self, hub: Any) -> None:
        """The event loop that what a batch hands back runs on (Celery's consumer has it once the worker starts)."""
        self.hub = hub

    def call(self, function: Callable[[], T]) -> T:
        """``function()`` run on the model thread once the work before it is done (loading and warming up the model)."""
        future: Future[T] = Future()

        def work() -> None:
            try:
                future.set_result(function())
            except BaseException as exc:  # raised in the caller's thread
                future.set_exception(exc)

        self.start(work)
        return future.result()

    def _serve(self) -> None:
        while True:
            with self._changed:
                while not self._work:
                    self._changed.wait()
                work = self._work.popleft()
            try:
                work()
            except Exception:  # the batcher answers its own errors; this is a bug, and the thread must go on
                log.exception("A batch failed on the model thread")
            finally:
                with self._changed:
                    self._busy = bool(self._work)
                    self._changed.notify_all()

    def on_loop(self, call: Callable[[], None]) -> None:
        done = threading.Event()
        with self._changed:
            self._pending.append((call, done))
            self._changed.notify_all()
        self.hub.call_soon(self.run_pending)
        done.wait()

    def run_pending(self) -> None:
        """Run, on this (the loop's) thread, what the batch handed back, oldest first."""
        while True:
            with self._changed:
                if not self._pending:
                    return
                call, done = self._pending.popleft()
            try:
                call()
            except Exception:  # a bug (Celery handles a task's own errors): it must not stop the loop
                log.exception("A call the model thread handed back to the event loop failed")
            finally:
                done.set()

    def drain(self) -> None:
        while True:
            self.run_pending()
            with self._changed:
                if self._pending:
                    continue
                if not self._busy:
                    return
                self._changed.wait(DRAIN_POLL_S)
