"""Batch jobs from the producer's side: open a job for an input, feed its lines, wait, read the results.

A feeder streams the input and keeps a bounded window of lines in flight with ``TaskClient.in_order``
(the same window as ``map``), so its memory stays flat however long the input. Workers record each
line's outcome in the job (``slmq.stores.jobstore``); the feeder records only the lines it refuses. Lines that
have a record are skipped, so feeding a job again, after a crash or a ``retry``, redoes nothing done.
"""

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from producer.tasks import TaskClient, TaskHandle
from slmq.batchfile import Line, detect_format, job_id, output_record, read_lines
from slmq.constants import JOB_HEADER, JOB_LINE_HEADER, JOB_LINE_ID_HEADER, job_feeder_key
from slmq.errors import BrokerUnavailableError, InputFormatError, JobStateError, ResultTimeoutError, SlmqError
from slmq.schemas import TASK_TYPE_SPECS
from slmq.settings import Settings
from slmq.stores.connections import broker_client
from slmq.stores.jobstore import (
    CHUNK,
    JobState,
    JobStatus,
    JobStore,
    chunks,
    line_record,
    provenance,
)
from slmq.stores.lease import Lease

FEEDER_LEASE_S = 10.0  # a killed feeder's job can be fed again this long after it died
POLL_S = 0.5


def job_store(settings: Settings) -> JobStore:
    """The job store in the broker's Redis."""
    return JobStore(broker_client(settings), settings.result_expires_s)


class Job:
    """A batch job: ``status()``, ``wait()``, ``results()``, ``retry()``, ``cancel()``; its state lives in Redis."""

    def __init__(self, client: TaskClient, job_id: str) -> None:
        self.client = client
        self.id = job_id
        self.store = job_store(client.settings)
        self.feeder: Feeder | None = None
        self.run: int | None = None  # this process's run of the job (part of its task ids), once opened
        self._lines: Callable[[], Iterator[Line]] | None = None
        self._thread: threading.Thread | None = None

    def status(self) -> JobStatus:
        return self.store.status(self.id)

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Wait until every line has a record; raises if the job is cancelled, its feeder failed, or on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status()
            if status.state == JobState.FINISHED:
                return status
            if status.state == JobState.CANCELLED:
                raise JobStateError(f"Job {self.id} was cancelled; `slmq job resume {self.id}` runs the rest.")
            if self.feeder is not None and self.feeder.error is not None:
                raise self.feeder.error
            if deadline is not None and time.monotonic() > deadline:
                raise ResultTimeoutError(
                    f"Job {self.id} did not finish within {timeout}s ({status.done + status.failed} of "
                    f"{status.total} lines); check that a worker consumes its model's queue (`slmq status`), or "
                    "wait longer."
                )
            time.sleep(POLL_S)

    def results(self, *, partial: bool = False) -> Iterator[dict[str, Any]]:
        """One record per input line, in input order (OpenAI batch output lines for an OpenAI input)."""
        status = self.status()
        if status.state != JobState.FINISHED and not partial:
            raise JobStateError(
                f"Job {self.id} is {status.state} ({status.done + status.failed} of {status.total} lines have a "
                "record); wait for it (`slmq job watch`), or ask for the partial results."
            )
        for record in self.store.records(self.id, status.total):
            if record is not None:
                yield output_record(record, status.format)

    def feed(self, *, background: bool = True, window: int | None = None, timeout: float | None = 600.0) -> "Job":
        """Feed the job's lines that have no record, in a thread when ``background``; reopens its input if needed."""
        if self._lines is None or self.run is None:
            status = self.status()
            if status.state == JobState.FINISHED:
                return self
            opened = open_job(self.client, Path(status.source), status.task, status.format, expected_id=self.id)
            self._lines, self.run = opened._lines, opened.run
        assert self._lines is not None and self.run is not None
        status = self.status()
        window = window or self.client.default_window(status.task)
        self.feeder = Feeder(self.client, self.store, self.id, status.task, self._lines, self.run, window, timeout)
        if background:
            self._thread = threading.Thread(target=self.feeder.run_catching, name=f"slmq-job-{self.id}", daemon=True)
            self._thread.start()
        else:
            self.feeder.run()
        return self

    def retry(self, *, background: bool = True, window: int | None = None, timeout: float | None = 600.0) -> int:
        """Run the failed lines again (from the job's input); returns how many."""
        count = self.store.reset_failed(self.id)
        if count:
            self._lines = None  # read the input afresh
            self.feed(background=background, window=window, timeout=timeout)
        return count

    def cancel(self) -> bool:
        """Stop feeding new lines (at most one window already queued still runs); False if it was not running."""
        return self.store.cancel(self.id)

    def join(self) -> None:
        """Wait for this process's feeder thread, if any, to finish feeding."""
        if self._thread is not None:
            self._thread.join()


def submit_job(
    client: TaskClient, source: Path, task: str, format: str | None = None, window: int | None = None,
    timeout: float | None = 600.0, background: bool = True,
) -> Job:  # fmt: skip
    """Open (or resume) the job for ``source`` and feed it, in a thread when ``background``."""
    return open_job(client, source, task, format).feed(background=background, window=window, timeout=timeout)


def open_job(
    client: TaskClient, source: Path, task: str, format: str | None = None, *, expected_id: str | None = None
) -> Job:
    """Create the job for ``source`` (or find it again: its id comes from the content and the task type)."""
    model = client.fleet.model_for(task)  # an unknown or unserved task type fails here, before any reading
    format = format or detect_format(source)
    fields = set(TASK_TYPE_SPECS[task].request.model_fields)

    def lines() -> Iterator[Line]:
        return read_lines(source, format, fields)

    identity, total = job_id(task, lines())
    if expected_id is not None and identity != expected_id:
        raise InputFormatError(
            f"{source} is not the input of job {expected_id} any more (it changed since); submit it as a new job."
        )
    job = Job(client, identity)
    job.run = job.store.open(
        identity, task=task, model=model.name, format=format, source=str(source.resolve()), total=total
    )
    job._lines = lines
    return job


class Feeder:
    """Sends a job's unrecorded lines to the fleet, ``window`` at a time; one feeder per job (a lease)."""

    def __init__(
        self, client: TaskClient, store: JobStore, job_id: str, task: str, lines: Callable[[], Iterator[Line]],
        run: int, window: int, timeout: float | None,
    ) -> None:  # fmt: skip
        self.client, self.store, self.job_id, self.task = client, store, job_id, task
        self.lines, self.run_number, self.window, self.timeout = lines, run, window, timeout
        spec = client.fleet.model_for(task)
        self.provenance = provenance(spec, TASK_TYPE_SPECS[task].schema_version, None, None, None, 0.0)
        self.sent = 0
        self.error: BaseException | None = None

    def run_catching(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # kept for Job.wait() in the submitting thread
            self.error = exc

    def run(self) -> None:
        """Feed until every line is sent and settled, or the job is cancelled or finished by another feeder."""
        lease = Lease(self.store.client, job_feeder_key(self.job_id), FEEDER_LEASE_S)
        while not lease.acquire():
            if self.store.state(self.job_id) != JobState.RUNNING:
                return
            time.sleep(POLL_S)  # another process feeds this job; take over if it dies
        with lease:
            if self.store.state(self.job_id) != JobState.RUNNING:
                return
            self.store.started(self.job_id)
            # A client of its own: Celery's result consumer is not shared safely between threads.
            client = TaskClient(self.client.settings, fleet=self.client.fleet)
            handles = (self._submit(client, line) for line in self._unrecorded())
            results = client.in_order(handles, self.window, timeout=self.timeout, return_errors=True)
            for settled, _ in enumerate(results, start=1):  # outcomes are recorded by the workers
                if settled % self.window == 0 and self.store.state(self.job_id) == JobState.CANCELLED:
                    return

    def _unrecorded(self) -> Iterator[Line]:
        for chunk in chunks(self.lines(), CHUNK):
            recorded = self.store.finished_lines(self.job_id, [line.index for line in chunk])
            for line, done in zip(chunk, recorded, strict=True):
                if done:
                    continue
                if isinstance(line.payload, SlmqError):
                    self._refuse(line, line.payload)
                else:
                    yield line

    def _submit(self, client: TaskClient, line: Line) -> TaskHandle[BaseModel] | SlmqError:
        assert isinstance(line.payload, dict)
        headers = {JOB_HEADER: self.job_id, JOB_LINE_HEADER: line.index, JOB_LINE_ID_HEADER: line.id}
        try:
            handle = client.submit(
                self.task, line.payload, task_id=f"{self.job_id}:{line.index}:{self.run_number}", headers=headers
            )
        except BrokerUnavailableError:
            raise
        except SlmqError as exc:  # refused before enqueue: oversize, invalid text, schema mismatch
            self._refuse(line, exc)
            return exc
        self.sent += 1
        return handle

    def _refuse(self, line: Line, error: SlmqError) -> None:
        spec_model = self.provenance["model"]
        prov = self.provenance | {"finished_at": round(time.time(), 3), "refused_by": "producer"}
        record, error_type = line_record(self.job_id, line.index, line.id, self.task, spec_model, error, prov)
        self.store.record(self.job_id, line.index, record, error_type)
