"""Delivery bookkeeping in Redis: attempts per task id, results already stored, and dead letters.

The attempt counter is incremented before the model runs, in Redis, so it survives a worker killed
mid-batch: a message that keeps killing its worker is counted on every re-delivery and, past
``max_attempts``, is dead-lettered instead of being run again. A message whose result is already
stored (re-delivered after its result was written but before its ack) is answered with that result,
not recomputed; and a result stored while this worker computed its own (a worker that was paused, taken
for dead and woke up; its messages were answered elsewhere meanwhile) wins over it, so a task id never
gets a second, different answer. The guard fails closed: when the ledger cannot be read or counted, the
batch goes back on its queue (:class:`LedgerUnavailableError`) rather than running without its limits.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis
from celery import states
from pydantic import BaseModel, ValidationError

from slmq.constants import attempts_key, dead_letter_key, task_type_from_name
from slmq.errors import DeadLetteredError, GenerationTimeoutError, InferenceError, OutputValidationError, SlmqError
from slmq.schemas import result_from_wire
from workers.model.tasktypes import TASK_TYPES, Answered, Outcome
from workers.watchdog import Watchdog

log = logging.getLogger(__name__)

# Outcomes that are the model's failure, not the caller's: recorded as dead letters so they can be re-run.
DEAD_LETTER_ERRORS = (OutputValidationError, InferenceError)
# A model call that took this share of the time limit was stopped by it (generation's max_time).
TIME_LIMIT_SHARE = 0.95
LEDGER_RETRIES_S = (0.5, 1.0)  # waits before the second and third try of a ledger read that failed
JOIN_SHARE = 0.5  # a running batch takes messages that join it while at least this share of its time limit is left


class LedgerUnavailableError(Exception):  # internal, never a caller's: the batch goes back on its queue
    """Raised when the attempt ledger cannot be read or counted: the batch must not run without its limits."""


@dataclass(frozen=True)
class Delivery:
    """One message as the worker received it: enough to dead-letter and later re-publish it."""

    task_id: str
    task_name: str
    kwargs: dict[str, Any]
    headers: dict[str, Any] = field(default_factory=dict)  # the job headers, so a re-run records the job's line


class DeliveryLedger:
    """Counts attempts, finds stored results and writes dead letters for one worker's queue."""

    def __init__(self, client: redis.Redis, backend: Any, queue: str, max_attempts: int, expires_s: int) -> None:
        self.client = client
        self.backend = backend
        self.queue = queue
        self.max_attempts = max_attempts
        self.expires_s = expires_s

    def started(self, task_ids: Iterable[str]) -> dict[str, int]:
        """How many times each task id reached a model step before, without an answer stored."""
        ids = list(task_ids)
        values = self.client.mget([attempts_key(task_id) for task_id in ids]) if ids else []
        return {task_id: int(value or 0) for task_id, value in zip(ids, values, strict=True)}

    def count(self, task_ids: Iterable[str]) -> None:
        """Add one attempt to each task id, just before the model runs it."""
        with self.client.pipeline(transaction=False) as pipe:
            for task_id in task_ids:
                pipe.incr(attempts_key(task_id))
                pipe.expire(attempts_key(task_id), self.expires_s)
            pipe.execute()

    def stored(self, names: dict[str, str]) -> dict[str, Outcome]:
        """Outcomes already in the result backend for ``{task id: task name}``: a re-delivery after the write."""
        if not names:
            return {}
        raw = self.backend.client.mget([self.backend.get_key_for_task(task_id) for task_id in names])
        found: dict[str, Outcome] = {}
        for (task_id, name), value in zip(names.items(), raw, strict=True):
            outcome = self._outcome(value, name) if value else None
            if outcome is not None:
                found[task_id] = outcome
        return found

    def _outcome(self, value: bytes, name: str) -> Outcome | None:
        meta = self.backend.decode_result(value)
        if meta.get("status") == states.FAILURE:
            error = self.backend.exception_to_python(meta.get("result"))
            return error if isinstance(error, SlmqError) else None
        task_type = TASK_TYPES.get(str(task_type_from_name(name)))
        if meta.get("status") != states.SUCCESS or task_type is None:
            return None
        try:
            result: BaseModel = result_from_wire(task_type.spec.result, meta.get("result"))
        except ValidationError:
            return None  # stored by another slmq version: compute it again
        return Answered(result)

    def exhausted(self, delivery: Delivery, attempts: int) -> DeadLetteredError:
        """Dead-letter a message that reached the model ``attempts`` times without an answer."""
        error = DeadLetteredError(
            f"Task {delivery.task_id} was delivered {attempts} times and its worker was lost each time (killed, "
            f"out of memory, or over the hard time limit), so it was moved to the dead-letter list of queue "
            f"{self.queue} after SLMQ_MAX_ATTEMPTS={self.max_attempts}; inspect it with `slmq dlq show "
            f"{delivery.task_id}` and re-run it with `slmq dlq retry {delivery.task_id}`."
        )
        self.dead_letter(delivery, error, attempts, reason="max_attempts")
        return error

    def dead_letter(self, delivery: Delivery, error: SlmqError, attempts: int, reason: str) -> None:
        """Record ``delivery`` in its queue's dead-letter hash; a failed write is logged, never raised."""
        record = {
            "task_id": delivery.task_id,
            "task_name": delivery.task_name,
            "task_type": task_type_from_name(delivery.task_name),
            "queue": self.queue,
            "kwargs": delivery.kwargs,
            "headers": delivery.headers,
            "reason": reason,
            "attempts": attempts,
            "error_type": type(error).__name__,
            "error": error.message,
            "raw_output": getattr(error, "raw_output", None),
            "errors": getattr(error, "errors", None),
            "dead_lettered_at": time.time(),
        }
        try:
            self.client.hset(dead_letter_key(self.queue), delivery.task_id, json.dumps(record, ensure_ascii=False))
        except redis.RedisError:
            log.exception("Could not dead-letter task %s", delivery.task_id)
            return
        log.warning("Dead-lettered task %s (%s, attempt %d)", delivery.task_id, reason, attempts)


Calls = dict[str, tuple[str, dict[str, Any]]]  # {task id: (task name, kwargs)}
Finish = Callable[[dict[str, Outcome]], None]  # store and ack these outcomes now
Answer = Callable[[Calls, Finish], dict[str, Outcome]]  # the model's outcomes; valid ones may go to Finish early


def _deliveries(calls: Calls, headers: dict[str, dict[str, Any]]) -> dict[str, Delivery]:
    return {task_id: Delivery(task_id, *call, headers.get(task_id, {})) for task_id, call in calls.items()}


@dataclass(frozen=True)
class _Running:
    """A group being answered: its calls, deliveries and attempts before, each added to as messages join it."""

    group: Calls
    deliveries: dict[str, Delivery]
    started: dict[str, int]


class DeliveryGuard:
    """Wraps a batch's model call with at-least-once bookkeeping: stored results, attempts, time limits."""

    def __init__(self, ledger: DeliveryLedger, watchdog: Watchdog, sleep: Callable[[float], None] = time.sleep) -> None:
        self.ledger = ledger
        self.watchdog = watchdog
        self.sleep = sleep
        self._open: _Running | None = None  # the group of fresh messages running now, which others may join

    def answer(
        self, calls: Calls, answer: Answer, finish: Finish, headers: dict[str, dict[str, Any]] | None = None
    ) -> dict[str, Outcome]:
        """Outcomes for ``calls``: stored ones reused, exhausted ones dead-lettered, the rest run by ``answer``.

        A message started before without an answer (its worker was lost with it in hand) is a suspect: it
        runs alone, its attempt is counted only when it starts, and each group's outcomes go to ``finish``
        (stored and acked) before the next group runs. So a poison message takes down no batch-mate twice, and
        is dead-lettered once it has been started ``max_attempts`` times. A valid result ``answer`` knows before
        its group ends goes to ``finish`` at once (or the one another worker stored meanwhile, which stands).
        ``headers`` are the job headers of each task id, kept in its dead letter. Raises LedgerUnavailableError
        when Redis does not answer.
        """
        outcomes, started = self._read_ledger(calls)
        deliveries = _deliveries(calls, headers or {})
        exhausted, fresh, suspects = self._triage(calls, started, deliveries)
        outcomes.update(exhausted)
        for group in [fresh, *suspects]:
            if group:
                computed = self._run_counted(group, answer, finish, deliveries, started, joinable=group is fresh)
                outcomes.update(computed)
                if suspects:
                    finish(computed)
        return outcomes

    def joinable(self) -> bool:
        """Whether a batch of fresh messages runs now with at least half its time limit left (JOIN_SHARE)."""
        budget = self.watchdog.time_budget()
        return self._open is not None and budget is not None and budget >= JOIN_SHARE * self.watchdog.soft_s

    def admit(self, calls: Calls, headers: dict[str, dict[str, Any]]) -> tuple[dict[str, Outcome], Calls]:
        """Messages that arrived while a batch runs, read against the ledger as a batch's are: the outcomes of those
        answered before or exhausted, and the fresh ones, which join the batch (their attempt counted now, as they
        start). The rest are for a batch of their own: suspects, which run alone, and all of them when the batch
        takes no more (``joinable``) or the ledger does not answer."""
        running = self._open
        if running is None or not self.joinable():
            return {}, {}
        with self.watchdog.aside():  # Redis work, not the model's
            try:
                outcomes, started = self._read_ledger(calls)
            except LedgerUnavailableError:
                log.warning("Cannot read the delivery records of %d arriving tasks; they wait for the next batch",
                            len(calls), exc_info=True)  # fmt: skip
                return {}, {}
            deliveries = _deliveries(calls, headers)
            exhausted, fresh, _ = self._triage(calls, started, deliveries)
            try:
                self.ledger.count(fresh)
            except redis.RedisError:
                log.warning("Cannot count the attempts of %d arriving tasks; they wait for the next batch",
                            len(fresh), exc_info=True)  # fmt: skip
                fresh = {}
        running.group.update(fresh)
        running.deliveries.update({task_id: deliveries[task_id] for task_id in fresh})
        running.started.update({task_id: started[task_id] for task_id in fresh})
        return outcomes | exhausted, fresh

    def _triage(
        self, calls: Calls, started: dict[str, int], deliveries: dict[str, Delivery]
    ) -> tuple[dict[str, Outcome], Calls, list[Calls]]:
        """The dead letters of messages started ``max_attempts`` times, the fresh messages, and the suspects (started
        before without an answer), one group each. Those answered before (not in ``started``) are in none."""
        exhausted: dict[str, Outcome] = {}
        fresh: Calls = {}
        suspects: list[Calls] = []
        for task_id, (name, kwargs) in calls.items():
            if task_id not in started:
                continue  # answered before: its stored outcome is the answer
            if started[task_id] >= self.ledger.max_attempts:
                exhausted[task_id] = self.ledger.exhausted(deliveries[task_id], started[task_id])
            elif started[task_id] > 0:
                suspects.append({task_id: (name, kwargs)})
            else:
                fresh[task_id] = (name, kwargs)
        return exhausted, fresh, suspects

    def _read_ledger(self, calls: Calls) -> tuple[dict[str, Outcome], dict[str, int]]:
        """Stored outcomes and attempt counts, tried three times; LedgerUnavailableError if Redis does not answer."""
        for wait in (*LEDGER_RETRIES_S, None):
            try:
                outcomes = self.ledger.stored({task_id: name for task_id, (name, _) in calls.items()})
                return outcomes, self.ledger.started(task_id for task_id in calls if task_id not in outcomes)
            except redis.RedisError as exc:
                if wait is None:
                    raise LedgerUnavailableError(
                        f"Cannot read the delivery records of {len(calls)} tasks: {exc}"
                    ) from exc
                log.warning("Cannot read the delivery records (%s); trying again in %.1fs", exc, wait)
                self.sleep(wait)
        raise AssertionError("unreachable")

    def _run_counted(
        self,
        group: Calls,
        answer: Answer,
        finish: Finish,
        deliveries: dict[str, Delivery],
        started: dict[str, int],
        joinable: bool,
    ) -> dict[str, Outcome]:
        """``group``'s outcomes, their attempts counted first; a ``joinable`` group takes messages ``admit``-ted while
        it runs into ``group`` (and ``deliveries`` and ``started``), and answers them too."""
        try:
            self.ledger.count(group)
        except redis.RedisError as exc:
            raise LedgerUnavailableError(f"Cannot count the attempts of {len(group)} tasks: {exc}") from exc
        finished: dict[str, Outcome] = {}  # stored before the group ended: not looked up again (they are ours)

        def early(known: dict[str, Outcome]) -> None:  # a valid result known before its batch ends
            with self.watchdog.aside():  # Redis work, not the model's: a slow Redis must not hit the time limits
                settled = self._won(group, known)
                finished.update(settled)
                finish(settled)

        self._open = _Running(group, deliveries, started) if joinable else None
        try:
            outcomes = self._run(group, answer, early)
        finally:
            self._open = None
        computed = self._won(group, {task_id: o for task_id, o in outcomes.items() if task_id not in finished})
        for task_id, outcome in computed.items():
            if isinstance(outcome, DEAD_LETTER_ERRORS):
                self.ledger.dead_letter(deliveries[task_id], outcome, started[task_id] + 1, type(outcome).__name__)
        return computed | finished

    def _won(self, group: Calls, computed: dict[str, Outcome]) -> dict[str, Outcome]:
        """``computed``, but where another worker stored an outcome meanwhile, that one: the first answer stands."""
        try:
            stored = self.ledger.stored({task_id: group[task_id][0] for task_id in computed})
        except redis.RedisError:
            log.warning("Cannot check for answers stored meanwhile; storing this worker's own", exc_info=True)
            return computed
        if stored:
            log.warning("%d task(s) were answered by another worker meanwhile; their stored answers stand", len(stored))
        return computed | stored

    def _run(self, calls: Calls, answer: Answer, early: Finish) -> dict[str, Outcome]:
        started = time.monotonic()
        with self.watchdog.guard(f"A batch of {len(calls)} tasks ({', '.join(calls)})"):
            outcomes = answer(calls, early)
        if time.monotonic() - started < TIME_LIMIT_SHARE * self.watchdog.soft_s:
            return outcomes
        return {task_id: self._timed_out(outcome) for task_id, outcome in outcomes.items()}

    def _timed_out(self, outcome: Outcome) -> Outcome:
        if not isinstance(outcome, OutputValidationError) or isinstance(outcome, GenerationTimeoutError):
            return outcome
        message = (
            f"Generation stopped at the task time limit of {self.watchdog.soft_s:g}s (SLMQ_TASK_TIME_LIMIT_S) "
            f"before the output was valid: {outcome.message} Send a shorter text, lower max_new_tokens or raise "
            "the limit."
        )
        return GenerationTimeoutError(message, *outcome.args[1:])
