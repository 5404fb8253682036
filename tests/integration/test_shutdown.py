"""Stopping a worker loses nothing: the task in hand finishes, the queued ones wait for the next worker."""

import signal

from producer import FleetClient
from slmq.schemas import SummaryResult
from tests.integration.conftest import Deployment, StartWorker

TIMEOUT_S = 120


def test_sigterm_during_work_loses_nothing(deployment: Deployment, start_worker: StartWorker) -> None:
    # Given one worker busy with a queue of tasks
    client = FleetClient(deployment.settings())
    first = start_worker("tiny", node="tiny@first")
    handles = [client.submit("summarize", f"Report {n}: shipment {n} left the depot late.") for n in range(16)]
    handles[0].get(timeout=TIMEOUT_S)
    # When it is stopped with SIGTERM mid-queue and another worker starts later
    assert first.stop(signal.SIGTERM) == 0
    unanswered = sum(not handle.ready() for handle in handles)
    start_worker("tiny", node="tiny@second")
    # Then every task is answered, and the second worker answered the ones the first left
    results = [handle.get(timeout=TIMEOUT_S) for handle in handles]
    assert all(isinstance(result, SummaryResult) for result in results)
    assert unanswered > 0, "the first worker should not have drained the whole queue before SIGTERM"
    assert "warm shutdown" in first.output().lower()
