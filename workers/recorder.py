"""Job lines on the worker side: each job task's final outcome is recorded once, with its provenance.

It listens to Celery's signals rather than sitting in the task body, so the batcher and the task
stay as they are: ``task_received`` notes when a job's message reached this worker, and
``task_postrun`` (after the result is stored, before the late ack) records the line's result or
error. A retried task (state RETRY) is not final and is not recorded; a re-delivered message that
was already recorded changes nothing (``JobStore.record`` writes a line once).
"""

import hashlib
import inspect
import logging
import sys
import time
from typing import Any

import redis
from celery import signals, states

from slmq.constants import JOB_HEADER, JOB_LINE_HEADER, JOB_LINE_ID_HEADER, task_type_from_name
from slmq.fleet import ModelSpec
from slmq.jobs import JobStore, line_record, provenance
from workers.tasktypes import TASK_TYPES, TaskType

log = logging.getLogger(__name__)
FINAL_STATES = (states.SUCCESS, states.FAILURE)


def prompt_version(task: TaskType) -> str:
    """A short hash of the task type's code (its prompt, schema handling and parsing) and their shared base."""
    modules = {type(task).__module__, TaskType.__module__}
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update(inspect.getsource(sys.modules[name]).encode())
    return digest.hexdigest()[:12]


class JobRecorder:
    """Writes the outcome of every job task this worker finishes into its job, with provenance."""

    def __init__(self, client: redis.Redis, ttl_s: int, spec: ModelSpec, device: str) -> None:
        self.store = JobStore(client, ttl_s)
        self.spec = spec
        self.device = device
        self.prompt_versions = {name: prompt_version(task) for name, task in TASK_TYPES.items()}
        self.arrivals: dict[str, float] = {}

    def connect(self) -> None:
        """Listen to this process's task signals (strong references: the recorder lives as long as the worker)."""
        signals.task_received.connect(self._received, weak=False)
        signals.task_postrun.connect(self._finished, weak=False)

    def _received(self, sender: Any = None, request: Any = None, **_: Any) -> None:
        if request is not None and request.request_dict.get(JOB_HEADER):
            self.arrivals[request.id] = time.monotonic()

    def _finished(
        self, sender: Any = None, task_id: str = "", task: Any = None, retval: Any = None, state: str = "", **_: Any
    ) -> None:
        job = task.request.get(JOB_HEADER) if task is not None else None
        if not job or state not in FINAL_STATES:
            return
        task_type = str(task_type_from_name(task.name))
        arrived = self.arrivals.pop(task_id, None)
        duration = time.monotonic() - arrived if arrived is not None else 0.0
        schema_version = TASK_TYPES[task_type].spec.schema_version if task_type in TASK_TYPES else 0
        prov = provenance(
            self.spec, schema_version, self.prompt_versions.get(task_type), task.request.hostname, self.device, duration
        )
        index, line_id = int(task.request.get(JOB_LINE_HEADER)), str(task.request.get(JOB_LINE_ID_HEADER))
        record, error_type = line_record(job, index, line_id, task_type, self.spec.name, retval, prov)
        try:
            self.store.record(job, index, record, error_type)
        except redis.RedisError:
            # The message is not acked yet: a worker that dies here has it re-delivered and recorded then.
            log.exception("Cannot record line %d of job %s", index, job)
            raise
