"""Every queue name, task name and Redis key prefix slmq uses, defined once."""

from typing import Final

NAMESPACE: Final = "slmq"

DEFAULT_NODE_TEMPLATE: Final = "{model}@{device}"

PING_TASK: Final = f"{NAMESPACE}.ping"

# kombu's Redis transport keeps a queue's prioritised messages in sibling lists named with these suffixes.
PRIORITY_SUFFIXES: Final = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def queue_name(model: str) -> str:
    """The Redis list a model's workers consume: ``slmq.<model>``."""
    return f"{NAMESPACE}.{model}"


def model_from_queue(queue: str) -> str | None:
    """The model a queue belongs to, or None for a queue that is not a model queue."""
    return _unprefixed(queue)


def task_name(task_type: str) -> str:
    """The Celery task name of a task type: ``slmq.<task_type>``, so Flower shows the task type."""
    return f"{NAMESPACE}.{task_type}"


def task_type_from_name(name: str) -> str | None:
    """The task type of an slmq task name, or None for any other task."""
    return _unprefixed(name)


def _unprefixed(name: str) -> str | None:
    prefix = f"{NAMESPACE}."
    return name[len(prefix) :] if name.startswith(prefix) else None


# Fleet metrics: workers add to these keys in the broker's database; `slmq metrics` serves them.
METRICS_KEY: Final = f"{NAMESPACE}.metrics"  # hash: one field per counter, histogram bucket or sum
METRICS_WORKERS_KEY: Final = f"{NAMESPACE}.metrics.workers"  # set: node names that sent a heartbeat


def worker_metrics_key(node: str) -> str:
    """The hash of one worker's gauges (memory, load time); it expires when the worker stops beating."""
    return f"{NAMESPACE}.metrics.worker.{node}"


# kombu's Redis transport keeps every delivered, not yet acknowledged message in this hash (and its index).
KOMBU_UNACKED_KEY: Final = "unacked"
KOMBU_UNACKED_INDEX_KEY: Final = "unacked_index"

# Liveness (workers/transport.py, workers/liveness.py): what each worker process holds, and when it last beat.
INFLIGHT_KEY: Final = f"{NAMESPACE}.inflight"  # sorted set: in-flight list -> time of its owner's last pop
ALIVE_KEY: Final = f"{NAMESPACE}.alive"  # sorted set: worker process -> Redis time of its last heartbeat
OWNED_KEY_PREFIX: Final = f"{NAMESPACE}.owned:"


def inflight_key(owner: str, queue: str) -> str:
    """The list a worker process pops ``queue`` into: messages popped and not yet recorded as unacked."""
    return f"{INFLIGHT_KEY}:{owner}:{queue}"


def owned_key(owner: str) -> str:
    """The hash of the unacked messages one worker process holds: delivery tag -> queue and message."""
    return f"{OWNED_KEY_PREFIX}{owner}"


# Delivery: an attempt counter per task id (survives a killed worker) and a dead-letter hash per queue.
ATTEMPTS_KEY_PREFIX: Final = f"{NAMESPACE}.attempts."
DEAD_LETTER_KEY_PREFIX: Final = f"{NAMESPACE}.dlq."


def attempts_key(task_id: str) -> str:
    """The counter of deliveries of ``task_id`` that reached a worker's model step."""
    return f"{ATTEMPTS_KEY_PREFIX}{task_id}"


def dead_letter_key(queue: str) -> str:
    """The hash of ``queue``'s dead-lettered messages: one JSON record per task id."""
    return f"{DEAD_LETTER_KEY_PREFIX}{queue}"


# Batch jobs: a hash of counters per job, its per-line records and failures, and its feeder's lease.
JOB_KEY_PREFIX: Final = f"{NAMESPACE}.job."
# Message headers that tie a task to its job and line (the worker records the line's outcome).
JOB_HEADER: Final = "slmq_job"
JOB_LINE_HEADER: Final = "slmq_line"
JOB_LINE_ID_HEADER: Final = "slmq_line_id"
JOB_HEADERS: Final = (JOB_HEADER, JOB_LINE_HEADER, JOB_LINE_ID_HEADER)


def job_key(job_id: str) -> str:
    """The hash of a job's counters and settings: total, done, failed, state, task, model, source, ..."""
    return f"{JOB_KEY_PREFIX}{job_id}"


def job_results_key(job_id: str) -> str:
    """The hash of a job's finished lines: line index -> output record (JSON)."""
    return f"{JOB_KEY_PREFIX}{job_id}.results"


def job_failures_key(job_id: str) -> str:
    """The hash of a job's failed lines: line index -> error type (what ``slmq job retry`` re-drives)."""
    return f"{JOB_KEY_PREFIX}{job_id}.failures"


def job_feeder_key(job_id: str) -> str:
    """The lease of the one process that feeds a job's lines to the fleet."""
    return f"{JOB_KEY_PREFIX}{job_id}.feeder"


# Scheduled pipelines: `slmq beat` sends the ticks and consumes this queue (no model, no torch).
PIPELINE_QUEUE: Final = f"{NAMESPACE}.beat.pipelines"  # a dot: never a model's queue
PIPELINE_TASK: Final = f"{NAMESPACE}.beat.pipeline"


def pipeline_claim_key(pipeline: str, file_name: str) -> str:
    """The lease on one inbox file: only its holder processes the file."""
    return f"{NAMESPACE}.pipeline.{pipeline}.claim.{file_name}"


# The native engine's spare guesses: tokens a forward may be fed beyond what the grammar forces and COPY_GUESS, shared
# by its rows (fleet.toml's ``speculation``). A row gets speculation // rows - 1 of them (7 alone, 3 each for two
# rows, none from five rows up), spent on a longer copy and an n-gram lookup. A lone note on the 2-vCPU Zen 5
# took 77 forwards with none, 47 with 8, 45 with 16 (twice the tokens fed) and 45 with 32 (slower).
SPECULATION = 8
