"""The client SDK for backend services: submit tasks and batch jobs to the fleet and read typed results."""

from pathlib import Path

from producer.jobs import Job, submit_job
from producer.tasks import TaskClient, TaskHandle

__all__ = ["FleetClient", "TaskHandle"]


class FleetClient(TaskClient):
    """Submit tasks and batch jobs to the fleet: validated and routed before enqueue, answered with typed results."""

    def submit_job(
        self,
        source: str | Path,
        task_type: str = "delivery_note",
        *,
        format: str | None = None,
        window: int | None = None,
        timeout: float | None = 600.0,
        background: bool = True,
    ) -> Job:
        """Run every line of ``source`` as a batch job; returns at once (feeding in a thread) unless not ``background``.

        The job's id comes from the content and the task type: submitting the same input again resumes
        the job, and lines that are done are not run again.
        """
        return submit_job(self, Path(source), task_type, format, window, timeout, background)

    def job(self, job_id: str) -> Job:
        """The handle of an existing job; ``JobNotFoundError`` if this broker has none with that id."""
        job = Job(self, job_id)
        job.status()
        return job
