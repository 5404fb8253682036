"""A job line Redis will not take is retried, then its message goes back on the queue: never acked unrecorded."""

from pathlib import Path
from typing import Any

import pytest
import redis
from celery.exceptions import Reject
from redis.backoff import NoBackoff
from redis.retry import Retry

from slmq.constants import JOB_HEADER, JOB_LINE_HEADER, JOB_LINE_ID_HEADER
from slmq.fleet import ModelSpec
from workers.recorder import JobRecorder


class Request(dict[str, Any]):
    """A job task's request as the task body sees it (Celery's Context: headers by ``get``)."""

    id = "job-1:3:1"
    hostname = "tiny@test"


def test_a_line_redis_refuses_is_retried_with_backoff_then_put_back_on_the_queue(tmp_path: Path) -> None:
    # Given a recorder whose Redis refuses every connection
    sleeps: list[float] = []
    unreachable = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    spec = ModelSpec(name="tiny", source=f"path:{tmp_path}", quantization="none")
    recorder = JobRecorder(unreachable, 60, spec, "cpu", give_up_s=1.0, sleep=sleeps.append)
    request = Request({JOB_HEADER: "job-1", JOB_LINE_HEADER: 3, JOB_LINE_ID_HEADER: "n3"})
    # When a job line's answer is recorded, then it tries with growing waits, and then rejects the message requeued
    with pytest.raises(Reject) as rejected:
        recorder.record(request, "slmq.summarize", {"summary": "ok"})
    assert rejected.value.requeue is True
    assert sleeps == [0.1, 0.2, 0.4, 0.8]


def test_a_task_of_no_job_records_nothing(tmp_path: Path) -> None:
    unreachable = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    spec = ModelSpec(name="tiny", source=f"path:{tmp_path}", quantization="none")
    JobRecorder(unreachable, 60, spec, "cpu", give_up_s=1.0).record(Request(), "slmq.summarize", {"summary": "ok"})
