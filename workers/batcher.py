"""Queue-native batching: many queued messages, one model call, then each message finishes on its own.

The batcher sits between Celery's consumer and its pool. Celery's own strategy still decodes each
message, checks revocation and sends the 'received' event; instead of running the request at once,
the consumer hands it to the batcher. A batch is flushed when ``max_batch`` requests are waiting or
``max_wait_ms`` after the first one arrived. The flush runs the model once per task type in the
batch, keeps each request's outcome, and lets Celery execute each request normally as soon as its
outcome is known: a valid result the native engine finished while its batch-mates still run at once,
the rest when the batch ends. The task body only picks up its outcome, so result storage, events and
the late ack after the result is stored stay Celery's, per message.

Each batch runs on the model's own thread (``workers/modelthread.py``), so Celery's event loop goes on meanwhile:
heartbeats, remote control, and the pops that bring the next messages; storing a result and acking its message are
handed back to the loop. A batch the native engine runs takes messages as it goes: whenever rows are free, it takes
those the consumer delivered meanwhile (within the prefetch window, which each answered message frees); those of the
batch's task type join it at the next step, once the delivery guard admits them (``DeliveryGuard.admit``), and the
rest wait for the next batch. So a batch does not wait for its longest row while others wait.
"""

import functools
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import celery
from celery.bootsteps import StartStopStep
from celery.worker import state as worker_state
from celery.worker.consumer.tasks import Tasks
from pydantic import BaseModel, ValidationError

from slmq.constants import JOB_HEADERS, task_type_from_name
from slmq.errors import (
    ConfigError,
    InferenceError,
    InvalidPayloadError,
    PayloadTooLargeError,
    SlmqError,
    TaskNotServedError,
)
from slmq.fleet import Fleet
from workers.delivery import DeliveryGuard, Finish, LedgerUnavailableError
from workers.meter import WorkerMeter
from workers.model.runner import ModelRunner
from workers.model.tasktypes import TASK_TYPES, Answered, Outcome
from workers.modelthread import Handoff, Inline, ModelThread
from workers.versions import check_versions

log = logging.getLogger(__name__)
MAX_EXTENSIONS = 10  # a partial batch waits at most (1 + MAX_EXTENSIONS) x max_wait_ms
Request = Any  # celery.worker.request.Request: untyped upstream


@dataclass
class _Batch:
    """The batch running now: its requests (joined ones added) and which of them are finished, and what the consumer
    delivered meanwhile. ``requests``, ``arrived`` and ``left`` are shared by the event loop and the model thread."""

    requests: list[Request]
    arrived: list[Request] = field(default_factory=list)  # delivered while it runs, not yet looked at by a join
    left: list[Request] = field(default_factory=list)  # delivered while it runs, for the next batch
    done: set[int] = field(default_factory=set)  # indices of the requests finished (the event loop's only)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.perf_counter)


class Batcher:
    """Buffers task requests and answers them with one batched model call per task type."""

    def __init__(
        self,
        runner: ModelRunner,
        fleet: Fleet,
        max_payload_bytes: int,
        delivery: DeliveryGuard | None = None,
        *,
        waiting: Callable[[], int] | None = None,
        meter: WorkerMeter | None = None,
        model_thread: ModelThread | None = None,
    ) -> None:
        """``waiting`` reads how many messages the broker still holds for this worker's queue (a partial batch
        waits longer while there are some); ``meter`` counts each batch (None: no metrics); ``model_thread`` runs the
        batches (the one that loaded the model; a new one if None) once installed in a consumer with an event loop."""
        self.runner = runner
        self.fleet = fleet
        self.max_payload_bytes = max_payload_bytes
        self.delivery = delivery
        self.max_batch = runner.spec.max_batch
        self.max_wait_s = runner.spec.max_wait_ms / 1000
        self.buffer: list[Request] = []
        self.outcomes: dict[str, Outcome] = {}
        self._takers: Counter[str] = Counter()  # requests still to take each outcome (a task id sent twice)
        self._execute: Callable[[Request], None] | None = None
        self._handoff: Handoff = Inline()
        self._model_thread = model_thread
        self._running: _Batch | None = None
        self._timer: Any = None
        self._deadline: Any = None
        self._extensions = 0
        self.waiting = waiting
        self.meter = meter
        self.arrivals: dict[str, float] = {}  # task id -> when its message reached the batcher (monotonic)

    def install(self, consumer: Any, installed: Callable[[str], str] = version) -> None:
        """Route the consumer's requests through this batcher (before its task strategies are built).

        Celery has no public hook for this: ``consumer.on_task_request`` is what its task strategies hand each
        request to (celery/worker/consumer/consumer.py), and its ETA and rate-limit paths too. The documented
        ``Task.Strategy`` would not do: the default strategy reads ``on_task_request`` from the consumer, and
        so do those paths, so a strategy of slmq's own would be a copy of Celery's (celery-batches' is, and
        drops ETAs). This is the one place slmq uses a Celery internal: it refuses a Celery release other than
        the ones it was written against (``workers/versions.py``) and a consumer that lacks the internal.
        """
        check_versions(installed, ("celery",))
        missing = [name for name in ("on_task_request", "timer") if not hasattr(consumer, name)]
        if missing:
            raise ConfigError(
                f"Celery {celery.__version__}'s worker consumer has no {', '.join(missing)}, which slmq's batcher "
                "replaces; slmq is written against celery 5.7: install the release pyproject.toml asks for."
            )
        self._execute = consumer.on_task_request
        self._timer = consumer.timer
        hub = getattr(consumer, "hub", None)  # kombu's event loop; None in a consumer without one
        if hub is not None:
            self._model_thread = self._model_thread or ModelThread()
            self._model_thread.attach(hub)
            self._handoff = self._model_thread
        consumer.on_task_request = self.add

    def add(self, request: Request) -> None:
        if task_type_from_name(request.name) not in TASK_TYPES:
            self._run(request)  # not a model task (e.g. slmq.ping): nothing to batch
            return
        self.arrivals.setdefault(request.id, time.monotonic())
        if self._running is not None:  # the running batch takes it, or the next batch does
            with self._running.lock:
                self._running.arrived.append(request)
            return
        self.buffer.append(request)
        if len(self.buffer) >= self.max_batch:
            self.flush()
        elif len(self.buffer) == 1:
            self._deadline = self._timer.call_after(self.max_wait_s, self._on_deadline)

    def _on_deadline(self) -> None:
        """max_wait_ms passed: run the partial batch, unless more messages are already in the broker.

        Messages that are queued but not yet fetched are ready, only slower to arrive than the timer;
        waiting for them (a bounded number of times) keeps batches full under load.
        """
        self._deadline = None
        if self._extensions < MAX_EXTENSIONS and self._more_waiting():
            self._extensions += 1
            self._deadline = self._timer.call_after(self.max_wait_s, self._on_deadline)
            return
        self.flush()

    def _more_waiting(self) -> bool:
        if self.waiting is None:
            return False
        try:
            return self.waiting() > 0
        except Exception:  # a broker hiccup must not stall the batch in hand
            log.warning("Could not read the queue depth; running the batch as it is", exc_info=True)
            return False

    def flush(self) -> None:
        if self._running is not None:
            return  # what waits runs when the batch in hand ends
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._extensions = 0
        requests, self.buffer = self.buffer, []
        if not requests:
            return
        log.info("Batch started: %d tasks %s", len(requests), " ".join(request.id for request in requests))
        batch = self._running = _Batch(requests)
        self._handoff.start(functools.partial(self._compute, batch))

    def _compute(self, batch: _Batch) -> None:
        """On the model thread: ``batch``'s outcomes, each result handed to the event loop to be stored as soon as it is
        known; then its end. Unanswered messages go back to the queue when the ledger cannot be read, or on an error
        outside the model (the model's own failures are outcomes)."""
        outcomes: dict[str, Outcome] = {r.id: error for r in batch.requests if (error := self._refuse(r)) is not None}
        calls = {r.id: (r.name, r.kwargs) for r in batch.requests if r.id not in outcomes}

        def finish(known: dict[str, Outcome]) -> None:
            self._handoff.on_loop(functools.partial(self._finish, batch, known))

        unanswered: Exception | None = None
        try:
            if self.delivery is None:
                outcomes.update(self.answer(calls, finish))
            else:  # a suspect's batch mates are stored before it runs: a poison run after it cannot take them down
                headers = {request.id: job_headers(request) for request in batch.requests}
                outcomes.update(self.delivery.answer(calls, self.answer, finish, headers))
        except LedgerUnavailableError as exc:
            unanswered = exc
        except Exception as exc:  # a bug: nothing is lost, the messages come back
            log.exception("A batch of %d tasks failed outside the model", len(batch.requests))
            unanswered = exc
        self._handoff.on_loop(functools.partial(self._end, batch, outcomes, unanswered))

    def _end(self, batch: _Batch, outcomes: dict[str, Outcome], unanswered: Exception | None) -> None:
        """On the event loop: finish ``batch`` (or put back what it did not answer); what arrived meanwhile waits for
        the next batch."""
        self._running = None
        with batch.lock:
            self.buffer.extend(batch.left + batch.arrived)
        if self.buffer and self._deadline is None:
            self._deadline = self._timer.call_after(self.max_wait_s, self._on_deadline)
        if unanswered is not None:
            self._requeue([request for i, request in enumerate(batch.requests) if i not in batch.done], unanswered)
            return
        failed = sum(isinstance(outcome, SlmqError) for outcome in outcomes.values())
        seconds = time.perf_counter() - batch.started
        log.info("Answered a batch of %d (%d failed) in %.2fs", len(batch.requests), failed, seconds)
        if self.meter is not None:
            self.meter.batch(len(batch.requests), seconds)
        self._finish(batch, outcomes)

    def _finish(self, batch: _Batch, outcomes: dict[str, Outcome]) -> None:
        """On the event loop: count, then let Celery store the result and ack, each request of ``batch`` whose outcome
        is known and that is not finished yet.

        Counted before the result is stored, so a caller that has its result sees it counted.
        """
        with batch.lock:
            requests = list(batch.requests)
        ready = [(i, request) for i, request in enumerate(requests) if i not in batch.done and request.id in outcomes]
        if self.meter is not None:  # also writes the batch's own figures when the batch ends
            names = {request.id: request.name for _, request in ready}
            arrivals = {task_id: self.arrivals[task_id] for task_id in names if task_id in self.arrivals}
            self.meter.answered(names, outcomes, arrivals)
        self.outcomes.update({request.id: outcomes[request.id] for _, request in ready})
        self._takers.update(request.id for _, request in ready)
        for i, request in ready:
            batch.done.add(i)
            self._run(request)

    def stop(self) -> None:
        """The consumer stops (SIGTERM, or a lost connection): the batch in hand ends first, its results stored here;
        what was buffered stays unacked and comes back."""
        self._handoff.drain()
        self.reset()

    def _requeue(self, requests: list[Request], why: Exception) -> None:
        """Put ``requests`` back on their queue unanswered; if Redis refuses that too, they return when it is back."""
        log.warning("Putting %d tasks back on the queue unanswered: %s", len(requests), why)
        for request in requests:
            self.arrivals.pop(request.id, None)
            request.reject(requeue=True)

    def waited(self, task_id: str) -> float:
        """Seconds since ``task_id``'s message reached the batcher (0.0 for one that ran outside a batch)."""
        arrived = self.arrivals.get(task_id)
        return time.monotonic() - arrived if arrived is not None else 0.0

    def take(self, task_id: str) -> Outcome | None:
        """The outcome computed for ``task_id`` in its batch (None when it ran outside a batch)."""
        self._takers[task_id] -= 1
        if self._takers[task_id] > 0:
            return self.outcomes.get(task_id)  # the same id is in this batch again: it gets the same answer
        del self._takers[task_id]
        self.arrivals.pop(task_id, None)
        return self.outcomes.pop(task_id, None)

    def reset(self) -> None:
        """Drop the buffer when the consumer stops or reconnects: those messages stay unacked and come back."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if self.buffer:
            log.warning("Consumer stopped with %d buffered messages; Redis re-delivers them", len(self.buffer))
        for request in self.buffer:
            self.arrivals.pop(request.id, None)
        self.buffer = []
        self._extensions = 0

    def _refuse(self, request: Request) -> SlmqError | None:
        """The error of a message no task type may parse: positional or unknown arguments, oversize, not UTF-8."""
        if request.args or set(request.kwargs) != {"payload"}:
            return InvalidPayloadError(
                f"A task message carries exactly one keyword argument, payload; task {request.id} has "
                f"{len(request.args)} positional and keyword arguments {sorted(request.kwargs)}. "
                "Send it through FleetClient.submit."
            )
        try:
            size = len(json.dumps(request.kwargs["payload"], ensure_ascii=False).encode("utf-8"))
        except UnicodeEncodeError as exc:
            return InvalidPayloadError(
                f"Task {request.id}'s payload is not valid UTF-8 text ({exc.reason} at position {exc.start}); "
                "decode the source with errors='replace' or fix its encoding."
            )
        except (TypeError, ValueError) as exc:
            return InvalidPayloadError(f"Task {request.id}'s payload is not JSON data: {exc}.")
        if size > self.max_payload_bytes:
            return PayloadTooLargeError(
                f"Task {request.id}'s payload is {size:,} bytes; the limit is {self.max_payload_bytes:,} "
                "(SLMQ_MAX_PAYLOAD_BYTES). Split the text into smaller pieces or raise the limit."
            )
        return None

    def answer(self, calls: dict[str, tuple[str, dict[str, Any]]], early: Finish | None = None) -> dict[str, Outcome]:
        """Outcomes for ``{task id: (task name, kwargs)}``: one model call per task type, errors per message.

        A valid result known before its call ends (a row the native engine finished) goes to ``early`` at once.
        """
        outcomes: dict[str, Outcome] = {}
        groups: dict[str, dict[str, BaseModel]] = {}
        for task_id, (name, kwargs) in calls.items():
            request = self._parse(name, kwargs)
            if isinstance(request, SlmqError):
                outcomes[task_id] = request
            else:
                groups.setdefault(str(task_type_from_name(name)), {})[task_id] = request
        for task_type, requests in groups.items():
            outcomes.update(self._run_group(task_type, requests, early))
        return outcomes

    def _run_group(self, task_type: str, requests: dict[str, BaseModel], early: Finish | None) -> dict[str, Outcome]:
        task = self.fleet.tasks[task_type]
        ids = list(requests)
        answered: set[str] = set()

        def on_answer(index: int, outcome: Answered[Any]) -> None:
            answered.add(ids[index])
            if early is not None:
                early({ids[index]: outcome})

        def join(room: int) -> list[BaseModel]:
            joined = self._join(task_type, room)
            ids.extend(joined)
            return list(joined.values())

        try:
            results = TASK_TYPES[task_type].run(
                self.runner,
                list(requests.values()),
                self.fleet.max_new_tokens(task_type),
                constrained=task.constrained,
                reasks=task.reasks,
                copy_spans=task.copy_spans,
                on_answer=on_answer,
                join=join if self._running is not None and self.runner.spec.join else None,
            )
        except Exception as exc:  # a model failure fails its batch (what was not answered yet), typed, and goes on
            log.exception("Batch of %d %s tasks failed in the model", len(requests), task_type)
            error = InferenceError(f"The model failed on a batch of {len(requests)} {task_type} tasks: {exc!r}")
            return {task_id: error for task_id in ids if task_id not in answered}
        return dict(zip(ids, results, strict=True))

    def _join(self, task_type: str, room: int) -> dict[str, BaseModel]:
        """On the model thread: up to ``room`` messages delivered while the batch of ``task_type`` runs that join it.

        Those no task may parse, or that the ledger has answered or dead-lettered, are finished at once; those of
        another task type, suspects, and all when the batch takes no more, wait for the next batch.
        """
        running = self._running
        if running is None or stopping() or (self.delivery is not None and not self.delivery.joinable()):
            return {}
        with running.lock:
            arrived, running.arrived = running.arrived, []
        outcomes: dict[str, Outcome] = {r.id: error for r in arrived if (error := self._refuse(r)) is not None}
        ours = [r for r in arrived if r.id not in outcomes and task_type_from_name(r.name) == task_type]
        later = ours[room:]  # no row for them yet: the next step's join looks again
        calls = {request.id: (request.name, request.kwargs) for request in ours[:room]}
        admitted = calls
        if self.delivery is not None:
            settled, admitted = self.delivery.admit(calls, {request.id: job_headers(request) for request in arrived})
            outcomes.update(settled)
        joined: dict[str, BaseModel] = {}
        for task_id, (name, kwargs) in admitted.items():
            parsed = self._parse(name, kwargs)
            if isinstance(parsed, SlmqError):
                outcomes[task_id] = parsed
            else:
                joined[task_id] = parsed
        taken = outcomes.keys() | joined.keys() | {request.id for request in later}
        with running.lock:
            running.requests.extend(request for request in arrived if request.id in outcomes or request.id in joined)
            running.left.extend(request for request in arrived if request.id not in taken)
            running.arrived[:0] = later
        if joined:
            log.info("Joined the running batch: %d tasks %s", len(joined), " ".join(joined))
        if outcomes:
            self._handoff.on_loop(functools.partial(self._finish, running, outcomes))
        return joined

    def _parse(self, name: str, kwargs: dict[str, Any]) -> BaseModel | SlmqError:
        task_type = str(task_type_from_name(name))
        if task_type not in self.fleet.task_types_of(self.runner.spec.name):
            return TaskNotServedError(
                f"Task type {task_type!r} reached model {self.runner.spec.name!r}, which does not serve it; "
                "send it through FleetClient so it is routed by fleet.toml."
            )
        try:
            request: BaseModel = TASK_TYPES[task_type].spec.request.model_validate(kwargs.get("payload"))
            return request
        except ValidationError as exc:
            return InvalidPayloadError(f"Invalid {task_type} payload: {exc.errors()[0]['msg']}.")

    def _run(self, request: Request) -> None:
        assert self._execute is not None, "install() the batcher before it receives requests"
        self._execute(request)


def stopping() -> bool:
    """Whether the worker was told to stop (SIGTERM, SIGQUIT): it ends the batch in hand, which takes no more."""
    return worker_state.should_stop is not None or worker_state.should_terminate is not None


def job_headers(request: Request) -> dict[str, Any]:
    """The headers that tie ``request`` to a job line (none for a task of no job)."""
    return {name: request.request_dict[name] for name in JOB_HEADERS if name in request.request_dict}


def batching_step(batcher: Batcher) -> type[StartStopStep]:
    """A consumer bootstep that installs ``batcher``; it must run before the strategies are built."""

    class Batching(StartStopStep):  # type: ignore[misc]
        def __init__(self, consumer: Any, **kwargs: Any) -> None:
            super().__init__(consumer, **kwargs)
            batcher.install(consumer)

        requires = (Tasks,)  # so it stops before the task consumer: the batch in hand still stores and acks

        def stop(self, consumer: Any) -> None:
            batcher.stop()

        def shutdown(self, consumer: Any) -> None:
            batcher.stop()

    return Batching
