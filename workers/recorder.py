"""Job lines on the worker side: each job task's final outcome is recorded once, with its provenance.

The record is written by the task body, after the outcome is known and before Celery stores the result
and acks the message (late ack), so a line is never acked unrecorded. While Redis does not take the
record the body retries and the message stays unacked; after ``SLMQ_TASK_TIME_LIMIT_S`` the message goes
back on its queue unanswered; a worker that dies first has it re-delivered and recorded then. Celery's
signals would not do: ``Signal.send`` catches and logs a receiver's exception, and the message is acked
anyway. A re-delivered message that was already recorded changes nothing (``JobStore.record`` writes a
line once); a dead letter run again (``slmq dlq retry``) carries its job headers, and its result
replaces the line's failure.
"""

import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from celery.exceptions import Reject

from slmq.constants import JOB_HEADER, JOB_LINE_HEADER, JOB_LINE_ID_HEADER, task_type_from_name
from slmq.fleet import ModelSpec
from slmq.stores.jobstore import JobStore, line_record, provenance
from workers.model.tasktypes import TASK_TYPES, TaskType

log = logging.getLogger(__name__)
RETRY_FIRST_S, RETRY_MAX_S = 0.1, 2.0  # waits between attempts to record a line while Redis refuses


def prompt_version(task: TaskType[Any, Any]) -> str:
    """A short fingerprint of what the task type asks the model (its prompt) and of its result schema."""
    asked = {
        "prompt": task.prompt(),
        "result": task.spec.result.model_json_schema(),
        "version": task.spec.schema_version,
    }
    return hashlib.sha256(json.dumps(asked, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]


class JobRecorder:
    """Writes the outcome of every job task this worker finishes into its job, with provenance."""

    def __init__(
        self, client: redis.Redis, ttl_s: int, spec: ModelSpec, device: str, give_up_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:  # fmt: skip
        self.store = JobStore(client, ttl_s)
        self.spec = spec
        self.device = device
        self.give_up_s = give_up_s
        self.sleep = sleep
        self.prompt_versions = {name: prompt_version(task) for name, task in TASK_TYPES.items()}

    def record(
        self, request: Any, task_name: str, outcome: dict[str, Any] | BaseException, duration: float = 0.0
    ) -> None:
        """Record a job task's final outcome (no-op for a task of no job); ``duration`` is the seconds since its
        message reached this worker (the provenance's).

        While Redis refuses, it tries again; after ``give_up_s`` it raises Celery's ``Reject(requeue=True)``: the
        message goes back on its queue unanswered, never acked without its record.
        """
        job = request.get(JOB_HEADER)
        if not job:
            return
        task_type = str(task_type_from_name(task_name))
        schema_version = TASK_TYPES[task_type].spec.schema_version if task_type in TASK_TYPES else 0
        prov = provenance(
            self.spec, schema_version, self.prompt_versions.get(task_type), request.hostname, self.device, duration
        )
        index, line_id = int(request.get(JOB_LINE_HEADER)), str(request.get(JOB_LINE_ID_HEADER))
        record, error_type = line_record(job, index, line_id, task_type, self.spec.name, outcome, prov)
        delay, waited = RETRY_FIRST_S, 0.0
        while True:
            try:
                self.store.record(job, index, record, error_type)
                return
            except redis.RedisError as exc:
                if waited >= self.give_up_s:
                    log.error("Cannot record line %d of job %s for %.0fs; its message goes back", index, job, waited)
                    raise Reject(exc, requeue=True) from exc
                log.warning(
                    "Cannot record line %d of job %s (%s); retrying in %.1fs, its message stays unacked meanwhile",
                    index, job, exc, delay,
                )  # fmt: skip
                self.sleep(delay)
                waited += delay
                delay = min(RETRY_MAX_S, 2 * delay)
