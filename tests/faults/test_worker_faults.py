"""Workers die mid-batch and nothing is lost or answered twice: SIGKILL twice with a second worker, SIGTERM."""

import signal
from pathlib import Path

import pytest

from tests.faults.conftest import RedisServer, Workers, fault_deployment, kill_mid_batch, mid_batch, texts
from tests.faults.ledger import Ledger
from tests.integration.conftest import Deployment

RECOVERY_TIMEOUT_S = 180  # the visibility timeout (18 s) plus a worker start on a loaded machine


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, redis_proc: RedisServer, tiny_model_dir: Path) -> Deployment:
    return fault_deployment(tmp_path_factory.mktemp("worker-faults"), redis_proc.url, tiny_model_dir)


def test_sigkill_mid_batch_twice_with_a_second_worker_loses_and_duplicates_nothing(
    workers: Workers, ledger: Ledger, redis_proc: RedisServer
) -> None:
    # Given two workers on one queue and a queue of tasks
    first, second = workers.start(node="tiny@first"), workers.start(node="tiny@second")
    for text in texts("kill", 40):
        ledger.submit("summarize", text)
    # When the first worker is SIGKILLed mid-batch, restarted, and the second is SIGKILLed mid-batch too
    kill_mid_batch(first, signal.SIGKILL, redis_proc.client())
    first.process.wait(timeout=30)
    third = workers.start(node="tiny@third", wait=False)
    kill_mid_batch(second, signal.SIGKILL, redis_proc.client())
    second.process.wait(timeout=30)
    workers.wait_ready(third)
    # Then every task is answered once: none lost, none with two different answers, nothing unexpected
    ledger.wait(RECOVERY_TIMEOUT_S)
    report = ledger.check()
    assert report.problems() == [], report.summary()
    assert report.answered == 40 and report.outcomes == {"ok": 40}, report.summary()
    assert report.redelivered >= 1, "no message was in a killed worker's hands: " + report.summary()
    assert first.process.returncode == -signal.SIGKILL and second.process.returncode == -signal.SIGKILL


def test_sigterm_mid_batch_finishes_the_batch_in_hand_and_loses_nothing(
    workers: Workers, ledger: Ledger, redis_proc: RedisServer
) -> None:
    # Given one worker (plus a spare) busy with a queue of tasks
    busy = workers.start(node="tiny@busy")
    for text in texts("term", 24):
        ledger.submit("summarize", text)
    # When it gets SIGTERM mid-batch
    kill_mid_batch(busy, signal.SIGTERM, redis_proc.client())
    # Then it exits cleanly after answering the batch in hand, and the rest is answered by the other worker
    assert busy.process.wait(timeout=120) == 0, busy.output()[-2000:]
    assert not mid_batch(busy), "the batch in hand was not finished before the worker exited"
    ledger.wait(RECOVERY_TIMEOUT_S)
    report = ledger.check()
    assert report.problems() == [], report.summary()
    assert report.outcomes == {"ok": 24}, report.summary()
