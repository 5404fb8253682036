"""Batch jobs in Redis: a hash of counters per job and one record per line, written exactly once.

Completion is counted, not chorded: each line's final outcome is recorded by a Lua script that
writes the line's record only if the line has none yet (a re-delivered message or a resubmitted
line changes nothing) and bumps ``done`` or ``failed``; the job is finished when they add up to
``total``. Workers record the lines they answer; the feeding producer records the lines it refuses.
"""

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import redis

from slmq.constants import job_failures_key, job_feeder_key, job_key, job_results_key
from slmq.errors import JobNotFoundError, SlmqError
from slmq.fleet import ModelSpec
from slmq.schemas import CONFIDENCE_KEY


class JobState(StrEnum):
    """Where a job stands (the ``state`` field of its hash, which the Lua scripts below also write)."""

    RUNNING = "running"  # lines are being fed or answered
    FINISHED = "finished"  # every line has its record (a result or a typed error)
    CANCELLED = "cancelled"  # stopped by `slmq job cancel`; `slmq job resume` runs it again


CHUNK = 256  # lines per round trip when reading records

_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'done', 0, 'failed', 0, 'state', 'running', 'created', ARGV[1], 'runs', 0)
  redis.call('HSET', KEYS[1], unpack(ARGV, 4))
end
if redis.call('HGET', KEYS[1], 'state') == 'cancelled' then redis.call('HSET', KEYS[1], 'state', 'running') end
redis.call('HSET', KEYS[1], 'updated', ARGV[1], 'source', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('HINCRBY', KEYS[1], 'runs', 1)
"""
# KEYS: job, results, failures. ARGV: line index, record, error type ('' for a result), now, ttl.
_RECORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  local previous = redis.call('HGET', KEYS[3], ARGV[1])
  if previous == false or ARGV[3] ~= '' then return 0 end
  -- a failed line that succeeded later (a dead letter run again): the result replaces the failure
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'failed', -1)
  redis.call('HINCRBY', KEYS[1], 'failed.' .. previous, -1)
  redis.call('HINCRBY', KEYS[1], 'done', 1)
elseif ARGV[3] == '' then
  redis.call('HINCRBY', KEYS[1], 'done', 1)
else
  redis.call('HINCRBY', KEYS[1], 'failed', 1)
  redis.call('HINCRBY', KEYS[1], 'failed.' .. ARGV[3], 1)
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local job = redis.call('HMGET', KEYS[1], 'done', 'failed', 'total', 'state')
if tonumber(job[1]) + tonumber(job[2]) >= tonumber(job[3]) and job[4] == 'running' then
  redis.call('HSET', KEYS[1], 'state', 'finished', 'finished', ARGV[4])
end
redis.call('HSET', KEYS[1], 'updated', ARGV[4])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[5]) end
return 1
"""
_RESET_FAILED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local failed = redis.call('HKEYS', KEYS[3])
for _, line in ipairs(failed) do redis.call('HDEL', KEYS[2], line) end
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(name, 1, 7) == 'failed.' then redis.call('HDEL', KEYS[1], name) end
end
redis.call('DEL', KEYS[3])
if #failed > 0 then redis.call('HSET', KEYS[1], 'failed', 0, 'state', 'running', 'finished', '', 'updated', ARGV[1]) end
return #failed
"""
_CANCEL = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'state') == 'running' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'updated', ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class JobStatus:
    """A job's record: what it runs, its counters and its times (seconds since the epoch)."""

    id: str
    task: str
    model: str
    format: str
    source: str
    total: int
    done: int
    failed: int
    state: JobState
    created: float
    started: float | None
    finished: float | None
    runs: int
    failures_by_type: dict[str, int] = field(default_factory=dict)
    feeder: str | None = None

    @property
    def pending(self) -> int:
        return self.total - self.done - self.failed

    @property
    def seconds(self) -> float:
        """From the first line fed to the last line finished (or now)."""
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started

    @property
    def lines_per_s(self) -> float:
        return (self.done + self.failed) / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One line for a person: records, failures by type, throughput."""
        failures = ", ".join(f"{kind}: {count}" for kind, count in sorted(self.failures_by_type.items()))
        text = f"job {self.id} {self.state}: {self.total} records, {self.done} done, {self.failed} failed"
        text += f" ({failures})" if failures else ""
        return text + f"; {self.done + self.failed} lines in {self.seconds:.1f} s, {self.lines_per_s:.2f} lines/s."


class JobStore:
    """Reads and writes jobs in the broker's Redis; every key expires ``ttl_s`` after the job's last change."""

    def __init__(self, client: redis.Redis, ttl_s: int) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._open = client.register_script(_OPEN)
        self._record = client.register_script(_RECORD)
        self._reset_failed = client.register_script(_RESET_FAILED)
        self._cancel = client.register_script(_CANCEL)

    def open(self, job_id: str, *, task: str, model: str, format: str, source: str, total: int) -> int:
        """Create the job, or resume it (a cancelled job runs again); returns its run number, 1 for a new job."""
        settings: list[str | int] = ["task", task, "model", model, "format", format, "total", total]
        return int(self._open(keys=[job_key(job_id)], args=[time.time(), self.ttl_s, source, *settings]))

    def started(self, job_id: str) -> None:
        """Note when the first line was fed (kept across resumes)."""
        self.client.hsetnx(job_key(job_id), "started", time.time())

    def status(self, job_id: str) -> JobStatus:
        """The job's record; ``JobNotFoundError`` if there is none."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(job_key(job_id))
            pipe.get(job_feeder_key(job_id))
            values, feeder = pipe.execute()
        if not values:
            raise JobNotFoundError(
                f"No job {job_id!r} in this broker: check the id (`slmq job submit` printed it), the broker "
                "(SLMQ_BROKER_URL), or whether it expired (SLMQ_RESULT_EXPIRES_S after its last change)."
            )
        job = {key.decode(): value.decode() for key, value in values.items()}
        failures = {key[7:]: int(value) for key, value in job.items() if key.startswith("failed.") and int(value) > 0}
        return JobStatus(
            id=job_id, task=job["task"], model=job["model"], format=job["format"], source=job["source"],
            total=int(job["total"]), done=int(job["done"]), failed=int(job["failed"]), state=JobState(job["state"]),
            created=float(job["created"]), started=_time(job.get("started")), finished=_time(job.get("finished")),
            runs=int(job["runs"]), failures_by_type=failures, feeder=feeder.decode() if feeder else None,
        )  # fmt: skip

    def record(self, job_id: str, index: int, record: dict[str, Any], error_type: str | None) -> bool:
        """Write line ``index``'s record unless it has one; True when this call wrote it."""
        keys = [job_key(job_id), job_results_key(job_id), job_failures_key(job_id)]
        line = json.dumps(record, ensure_ascii=False)
        return int(self._record(keys=keys, args=[index, line, error_type or "", time.time(), self.ttl_s])) == 1

    def finished_lines(self, job_id: str, indexes: list[int]) -> list[bool]:
        """Which of ``indexes`` have a record already."""
        with self.client.pipeline(transaction=False) as pipe:
            for index in indexes:
                pipe.hexists(job_results_key(job_id), str(index))
            return [bool(found) for found in pipe.execute()]

    def records(self, job_id: str, total: int) -> Iterator[dict[str, Any] | None]:
        """Every line's record in input order (None for a line without one), ``CHUNK`` lines per round trip."""
        for start in range(0, total, CHUNK):
            fields = [str(index) for index in range(start, min(start + CHUNK, total))]
            for value in self.client.hmget(job_results_key(job_id), fields):
                yield json.loads(value) if value is not None else None

    def reset_failed(self, job_id: str) -> int:
        """Forget the failed lines' records so they can run again; returns how many."""
        keys = [job_key(job_id), job_results_key(job_id), job_failures_key(job_id)]
        count = int(self._reset_failed(keys=keys, args=[time.time()]))
        if count < 0:
            self.status(job_id)  # raises JobNotFoundError
        return count

    def cancel(self, job_id: str) -> bool:
        """Stop feeding the job; False if it was not running."""
        done = int(self._cancel(keys=[job_key(job_id)], args=[time.time()]))
        if done < 0:
            self.status(job_id)
        return done == 1

    def moved(self, job_id: str, source: str) -> None:
        """Note where the job's input went (a pipeline moves it to done/), for ``retry``."""
        self.client.hset(job_key(job_id), "source", source)

    def state(self, job_id: str) -> JobState | None:
        value = self.client.hget(job_key(job_id), "state")
        return JobState(value.decode()) if isinstance(value, bytes) else None


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of at most ``size``, without reading ahead further."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _time(value: str | None) -> float | None:
    return float(value) if value else None


def line_record(
    job: str, index: int, line_id: str, task: str, model: str, outcome: dict[str, Any] | BaseException,
    provenance: dict[str, Any],
) -> tuple[dict[str, Any], str | None]:  # fmt: skip
    """A line's output record and its error type (None for a result): exactly one of result and error is set."""
    record: dict[str, Any] = {"job": job, "line": index, "id": line_id, "task": task, "model": model}
    if isinstance(outcome, BaseException):
        message = outcome.message if isinstance(outcome, SlmqError) else str(outcome)
        record |= {"result": None, "error": {"type": type(outcome).__name__, "message": message}}
        return record | {"provenance": provenance}, type(outcome).__name__
    result = dict(outcome)
    confidence = result.pop(CONFIDENCE_KEY, None)  # beside the record, never in it
    extra = {"confidence": confidence} if confidence is not None else {}
    return record | {"result": result, **extra, "error": None, "provenance": provenance}, None


def provenance(
    spec: ModelSpec, schema_version: int, prompt_version: str | None, worker: str | None, device: str | None,
    duration_s: float,
) -> dict[str, Any]:  # fmt: skip
    """What produced a record: the model and its weights, the schema and prompt, the worker, how long it took."""
    return {
        "model": spec.name,
        "source": str(spec.source),
        "revision": spec.revision,
        "quantization": spec.quantization,
        "adapter": str(spec.adapter) if spec.adapter else None,
        "schema_version": schema_version,
        "prompt_version": prompt_version,
        "worker": worker,
        "device": device,
        "duration_s": round(duration_s, 4),
        "finished_at": round(time.time(), 3),
    }
