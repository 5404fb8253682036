"""Fleet metrics kept in Redis: workers add to them, ``slmq metrics`` serves them (see ``slmq.cli.exporter``).

Counters and histograms live in one hash (``METRICS_KEY``), one field per sample: the field is the
JSON list ``[sample name, label values...]``. Histogram buckets are stored per bucket (not cumulative),
so an observation is one HINCRBY; the exporter adds them up. Counts survive worker restarts and are
shared by every worker of a model. Per-worker gauges (memory, load time) live in a hash per node
that expires when its worker stops sending heartbeats. No torch, no prometheus-client here.
"""

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import redis

from slmq.constants import KOMBU_UNACKED_KEY, METRICS_KEY, METRICS_WORKERS_KEY, worker_metrics_key

Kind = Literal["counter", "histogram", "gauge"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric family: its Prometheus name, help text, labels and (for histograms) bucket bounds."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


TASKS = MetricSpec(
    "slmq_tasks", "counter", "Tasks answered by a worker, by outcome.", ("model", "task_type", "outcome")
)
TASK_LATENCY = MetricSpec(
    "slmq_task_latency_seconds",
    "histogram",
    "Seconds from a worker receiving a task to its outcome: the wait for a batch plus the model call.",
    ("model", "task_type"),
    (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
BATCH_SIZE = MetricSpec(
    "slmq_batch_size", "histogram", "Messages answered per batch, those that joined it included.", ("model",),
    (1, 2, 4, 8, 16, 32, 64, 128),
)  # fmt: skip
BATCH_DURATION = MetricSpec(
    "slmq_batch_duration_seconds",
    "histogram",
    "Seconds a worker spent answering one batch.",
    ("model",),
    (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
GENERATED_TOKENS = MetricSpec("slmq_generated_tokens", "counter", "Tokens generated (end tokens excluded).", ("model",))
GENERATION_SECONDS = MetricSpec(
    "slmq_generation_seconds",
    "counter",
    "Seconds spent in batched generation; tokens/s = rate(slmq_generated_tokens_total) / rate(this).",
    ("model",),
)
STORED: tuple[MetricSpec, ...] = (TASKS, TASK_LATENCY, BATCH_SIZE, BATCH_DURATION, GENERATED_TOKENS, GENERATION_SECONDS)

# Per-worker gauges: the field in the worker's hash, and its metric.
WORKER_GAUGES: dict[str, MetricSpec] = {
    "load_seconds": MetricSpec(
        "slmq_model_load_seconds", "gauge", "Seconds the worker took to load its model onto its device.",
        ("model", "node", "device"),
    ),
    "rss_bytes": MetricSpec(
        "slmq_worker_resident_memory_bytes", "gauge", "Resident memory of the worker process.",
        ("model", "node", "device"),
    ),
    "torch_threads": MetricSpec(
        "slmq_worker_torch_threads", "gauge", "torch threads of the worker (its share of the host's cores).",
        ("model", "node", "device"),
    ),
    "gpu_bytes": MetricSpec(
        "slmq_worker_gpu_memory_bytes", "gauge", "GPU memory reserved by the worker's torch allocator.",
        ("model", "node", "device"),
    ),
}  # fmt: skip
WORKERS = MetricSpec("slmq_workers", "gauge", "Workers of a model sending heartbeats.", ("model",))
QUEUE_DEPTH = MetricSpec("slmq_queue_depth", "gauge", "Messages waiting in a model's queue.", ("model", "queue"))
UNACKED = MetricSpec(
    "slmq_unacked_messages", "gauge", "Messages delivered to workers and not yet acknowledged, all queues.", ()
)

INF = "+Inf"


def _field(sample: str, values: Sequence[str]) -> str:
    return json.dumps([sample, *values])


def bucket_bound(spec: MetricSpec, value: float) -> str:
    """The upper bound (as Prometheus writes it) of the one bucket ``value`` falls in."""
    for bound in spec.buckets:
        if value <= bound:
            return repr(float(bound))
    return INF


@dataclass
class MetricsBatch:
    """Increments collected in memory and written to Redis in one round trip."""

    increments: dict[str, float] = field(default_factory=dict)

    def add(self, spec: MetricSpec, labels: Mapping[str, str], amount: float = 1.0) -> None:
        self._incr(spec.name, _values(spec, labels), amount)

    def observe(self, spec: MetricSpec, labels: Mapping[str, str], value: float) -> None:
        values = _values(spec, labels)
        self._incr(f"{spec.name}_bucket", (*values, bucket_bound(spec, value)), 1)
        self._incr(f"{spec.name}_sum", values, value)
        self._incr(f"{spec.name}_count", values, 1)

    def _incr(self, sample: str, values: Sequence[str], amount: float) -> None:
        key = _field(sample, values)
        self.increments[key] = self.increments.get(key, 0.0) + amount

    def write(self, client: "redis.Redis") -> None:
        if not self.increments:
            return
        pipe = client.pipeline(transaction=False)
        for key, amount in self.increments.items():
            if amount == int(amount):
                pipe.hincrby(METRICS_KEY, key, int(amount))
            else:
                pipe.hincrbyfloat(METRICS_KEY, key, amount)
        pipe.execute()
        self.increments.clear()


def _values(spec: MetricSpec, labels: Mapping[str, str]) -> tuple[str, ...]:
    if set(labels) != set(spec.labels):
        raise ValueError(f"{spec.name} takes labels {spec.labels}, not {tuple(labels)}")
    return tuple(str(labels[name]) for name in spec.labels)


@dataclass(frozen=True)
class WorkerGauges:
    """One worker's gauges as written in its heartbeat."""

    node: str
    model: str
    device: str
    values: dict[str, float]

    def mapping(self) -> dict[str, str]:
        return {"node": self.node, "model": self.model, "device": self.device} | {
            name: repr(value) for name, value in self.values.items() if math.isfinite(value)
        }

    @classmethod
    def from_mapping(cls, node: str, raw: Mapping[bytes, bytes]) -> "WorkerGauges":
        text = {key.decode(): value.decode() for key, value in raw.items()}
        values = {name: float(text[name]) for name in WORKER_GAUGES if name in text}
        return cls(node=node, model=text.get("model", ""), device=text.get("device", ""), values=values)


def write_heartbeat(client: "redis.Redis", gauges: WorkerGauges, ttl_s: int) -> None:
    key = worker_metrics_key(gauges.node)
    pipe = client.pipeline(transaction=True)  # a reader never sees the hash deleted and not yet rewritten
    pipe.delete(key)
    pipe.hset(key, mapping=gauges.mapping())  # type: ignore[arg-type]
    pipe.expire(key, ttl_s)
    pipe.sadd(METRICS_WORKERS_KEY, gauges.node)
    pipe.execute()


def remove_worker(client: "redis.Redis", node: str) -> None:
    """Forget a worker that stopped cleanly, so ``slmq_workers`` drops at once rather than at expiry."""
    pipe = client.pipeline(transaction=False)
    pipe.delete(worker_metrics_key(node))
    pipe.srem(METRICS_WORKERS_KEY, node)
    pipe.execute()


@dataclass(frozen=True)
class Snapshot:
    """Everything the exporter serves, read from Redis in two round trips."""

    samples: dict[tuple[str, tuple[str, ...]], float]
    workers: list[WorkerGauges]
    queue_depths: dict[str, int]
    unacked: int


def parse_samples(raw: Mapping[bytes, bytes]) -> dict[tuple[str, tuple[str, ...]], float]:
    """``{(sample name, label values): value}`` from the metrics hash; fields that do not parse are skipped."""
    samples: dict[tuple[str, tuple[str, ...]], float] = {}
    for key, value in raw.items():
        try:
            name, *values = json.loads(key)
            samples[(str(name), tuple(map(str, values)))] = float(value)
        except (ValueError, TypeError):
            continue
    return samples


def read_snapshot(client: "redis.Redis", queues: Sequence[str], suffixes: Sequence[str]) -> Snapshot:
    """The stored metrics, the live workers' gauges and the depth of each queue (with its priority lists)."""
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(METRICS_KEY)
    pipe.smembers(METRICS_WORKERS_KEY)
    pipe.hlen(KOMBU_UNACKED_KEY)
    for queue in queues:
        for suffix in suffixes:
            pipe.llen(queue + suffix)
    raw, members, unacked, *lengths = pipe.execute()
    depths = {queue: sum(lengths[i * len(suffixes) : (i + 1) * len(suffixes)]) for i, queue in enumerate(queues)}
    nodes = sorted(member.decode() for member in members)
    pipe = client.pipeline(transaction=False)
    for node in nodes:
        pipe.hgetall(worker_metrics_key(node))
    workers: list[WorkerGauges] = []
    for node, gauges in zip(nodes, pipe.execute(), strict=True):
        if gauges:
            workers.append(WorkerGauges.from_mapping(node, gauges))
        else:  # its heartbeat expired: the worker died without saying so
            client.srem(METRICS_WORKERS_KEY, node)
    return Snapshot(parse_samples(raw), workers, depths, int(unacked))
