"""What a worker records for ``slmq metrics``: each batch's size, outcomes and latencies, generated
tokens, and a heartbeat with its memory and model load time. Written to the broker's Redis; a failed
write is logged and never fails a batch."""

import logging
import math
import threading
import time

import redis

from slmq.constants import task_type_from_name
from slmq.errors import InferenceError, InvalidPayloadError, OutputValidationError, SlmqError, TaskNotServedError
from slmq.stores.metrics import (
    BATCH_DURATION,
    BATCH_SIZE,
    GENERATED_TOKENS,
    GENERATION_SECONDS,
    TASK_LATENCY,
    TASKS,
    MetricsBatch,
    WorkerGauges,
    remove_worker,
    write_heartbeat,
)
from workers.model.runner import Generation
from workers.model.tasktypes import Answered, Outcome

log = logging.getLogger(__name__)

# The `outcome` label of slmq_tasks_total; most specific class first.
OUTCOMES: tuple[tuple[type[SlmqError], str], ...] = (
    (OutputValidationError, "invalid_output"),
    (InvalidPayloadError, "invalid_payload"),
    (TaskNotServedError, "not_served"),
    (InferenceError, "inference_error"),
)


def outcome_label(outcome: Outcome) -> str:
    """``ok`` for a result (``re-asked`` if it took further attempts), else its error class's label (or ``error``)."""
    if isinstance(outcome, Answered):
        return "re-asked" if outcome.retries else "ok"
    return next((label for cls, label in OUTCOMES if isinstance(outcome, cls)), "error")


class WorkerMeter:
    """Counts one worker's batches and tasks into Redis; one round trip per batch, and per task answered early."""

    def __init__(self, client: redis.Redis, model: str) -> None:
        self.client = client
        self.model = model
        self.pending = MetricsBatch()
        self._pending_lock = threading.Lock()  # the model thread counts generations, the event loop the rest
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._node: str | None = None

    def batch(self, size: int, seconds: float) -> None:
        """Record one model batch: how many messages it held and how long it took (written with the next tasks)."""
        model = {"model": self.model}
        with self._pending_lock:
            self.pending.observe(BATCH_SIZE, model, size)
            self.pending.observe(BATCH_DURATION, model, seconds)

    def answered(self, names: dict[str, str], outcomes: dict[str, Outcome], arrivals: dict[str, float]) -> None:
        """Record answered tasks, just before their results are stored: ``names`` is ``{task id: task name}``,
        ``outcomes`` by task id and ``arrivals`` when each message reached the worker (``time.monotonic()``)."""
        now = time.monotonic()
        model = {"model": self.model}
        with self._pending_lock:
            for task_id, name in names.items():
                task_type = str(task_type_from_name(name))
                outcome = outcome_label(outcomes[task_id]) if task_id in outcomes else "error"
                self.pending.add(TASKS, {**model, "task_type": task_type, "outcome": outcome})
                arrived = arrivals.get(task_id)
                if arrived is not None:
                    self.pending.observe(TASK_LATENCY, {**model, "task_type": task_type}, now - arrived)
        self._write()

    def time_budget(self) -> float | None:
        """No limit of its own (a ``GenerationHook``)."""
        return None

    def generated(self, generations: list[Generation | SlmqError], seconds: float) -> None:
        """Count the tokens a ``generate()`` produced and the time it took (written with the next batch)."""
        tokens = sum(g.new_tokens for g in generations if isinstance(g, Generation))
        with self._pending_lock:
            self.pending.add(GENERATED_TOKENS, {"model": self.model}, tokens)
            self.pending.add(GENERATION_SECONDS, {"model": self.model}, seconds)

    def start_heartbeat(
        self, node: str, device: str, torch_device: str, load_seconds: float, interval_s: float
    ) -> None:
        """Write this worker's gauges now and every ``interval_s``; they expire if the worker dies.

        ``device`` is the fleet's name for it (the label), ``torch_device`` the name torch uses after pinning.
        """
        self._node = node
        ttl_s = math.ceil(3 * interval_s) + 1

        def beat() -> None:
            while True:
                gauges = WorkerGauges(node, self.model, device, _gauges(torch_device, load_seconds))
                try:
                    write_heartbeat(self.client, gauges, ttl_s)
                except redis.RedisError as exc:
                    log.warning("Cannot write worker metrics to Redis: %s", exc)
                if self._stop.wait(interval_s):
                    return

        self._heartbeat = threading.Thread(target=beat, name="slmq-metrics-heartbeat", daemon=True)
        self._heartbeat.start()

    def stop(self) -> None:
        """Stop the heartbeat and forget this worker, so the fleet's worker count drops at once."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        if self._node is not None:
            try:
                remove_worker(self.client, self._node)
            except redis.RedisError as exc:
                log.warning("Cannot remove worker metrics from Redis: %s", exc)

    def _write(self) -> None:
        with self._pending_lock:
            pending, self.pending = self.pending, MetricsBatch()
        try:
            pending.write(self.client)
        except redis.RedisError as exc:
            log.warning("Cannot write batch metrics to Redis (dropped): %s", exc)


def _gauges(device: str, load_seconds: float) -> dict[str, float]:
    import psutil
    import torch

    gauges = {
        "load_seconds": load_seconds,
        "rss_bytes": float(psutil.Process().memory_info().rss),
        "torch_threads": float(torch.get_num_threads()),
    }
    if device.startswith("cuda"):
        gauges["gpu_bytes"] = float(torch.cuda.memory_reserved(device))
    return gauges
