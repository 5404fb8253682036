"""Redis killed, down or paused: workers reconnect and keep consuming, producers get a typed error, nothing is lost."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from producer import FleetClient
from tests.faults.conftest import RedisServer, Workers, fault_deployment, mid_batch, texts, wait_for
from tests.faults.ledger import Ledger
from tests.integration.conftest import Deployment
from workers.transport import INFLIGHT

RECOVERY_TIMEOUT_S = 180
PAUSE_S = 5  # the soak pauses Redis for 30 s


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, redis_proc: RedisServer, tiny_model_dir: Path) -> Deployment:
    return fault_deployment(tmp_path_factory.mktemp("redis-faults"), redis_proc.url, tiny_model_dir)


@pytest.fixture(scope="module")
def workers(deployment: Deployment, workers_for: Callable[[Deployment], Workers]) -> Workers:
    workers = workers_for(deployment)
    workers.start(node="tiny@steady")
    return workers


@pytest.fixture
def ledger(deployment: Deployment, redis_proc: RedisServer, workers: Workers) -> Iterator[Ledger]:
    ledger = Ledger(FleetClient(deployment.settings()), redis_proc.url, "slmq.tiny")
    yield ledger
    ledger.close()


def answered(ledger: Ledger, count: int) -> Callable[[], bool]:
    return lambda: len(ledger.sent) - len(ledger.pending()) >= count


def test_redis_killed_and_restarted_on_its_append_only_file_loses_nothing(
    redis_proc: RedisServer, ledger: Ledger, workers: Workers
) -> None:
    # Given a worker answering a queue of tasks
    for text in texts("aof", 32):
        ledger.submit("summarize", text)
    wait_for(answered(ledger, 4), RECOVERY_TIMEOUT_S, "the worker answered nothing")
    # When Redis is SIGKILLed while the worker runs a batch, and restarted on the same directory
    # (killing it as the worker pops is tests/faults/test_pop_window.py: the window is too short to aim at here)
    wait_for(lambda: mid_batch(workers.started[0]), RECOVERY_TIMEOUT_S, "the worker started no batch", poll=0.01)
    redis_proc.kill()
    time.sleep(1)  # a real outage: the worker sees the connection drop
    redis_proc.start()
    # Then the worker reconnects, answers the rest and new tasks, and nothing is lost or answered twice
    for text in texts("after-restart", 8):
        ledger.submit("summarize", text)
    ledger.wait(RECOVERY_TIMEOUT_S)
    report = ledger.check()
    assert report.problems() == [], report.summary()
    assert report.outcomes == {"ok": 40}, report.summary()
    assert workers.started[0].process.poll() is None, "the worker should have survived the restart"
    # And the worker popped with BLMOVE into an in-flight list of its own (workers/transport.py)
    inflight = redis.Redis.from_url(redis_proc.url).zrange(INFLIGHT, 0, -1)
    assert [name.decode() for name in inflight if name.decode().endswith(":slmq.tiny")], inflight


def test_a_producer_whose_redis_is_down_gets_a_typed_error_and_can_resubmit(
    redis_proc: RedisServer, deployment: Deployment, ledger: Ledger
) -> None:
    # Given Redis is down
    redis_proc.kill()
    try:
        # When a producer submits
        task_id = ledger.submit("summarize", "Pallet 7 is stuck at the gate.")
        # Then it is refused with BrokerUnavailableError (recorded by the ledger), not dropped or hung
        assert ledger.refused[task_id].startswith("BrokerUnavailableError: Cannot reach the broker"), ledger.refused
    finally:
        redis_proc.start()
    # And the same task id submitted again once Redis is back is answered
    ledger.submit("summarize", "Pallet 7 is stuck at the gate.", task_id=task_id)
    ledger.wait(RECOVERY_TIMEOUT_S)
    report = ledger.check()
    assert report.problems() == [] and report.outcomes == {"ok": 1}, report.summary()


def test_redis_paused_and_resumed_loses_nothing(redis_proc: RedisServer, ledger: Ledger, workers: Workers) -> None:
    # Given a worker answering a queue of tasks
    for text in texts("pause", 24):
        ledger.submit("summarize", text)
    wait_for(answered(ledger, 4), RECOVERY_TIMEOUT_S, "the worker answered nothing")
    # When Redis is frozen with SIGSTOP for a while, then resumed
    redis_proc.pause()
    time.sleep(PAUSE_S)
    redis_proc.resume()
    # Then every task is answered once and the worker goes on with new ones
    for text in texts("after-pause", 8):
        ledger.submit("summarize", text)
    ledger.wait(RECOVERY_TIMEOUT_S)
    report = ledger.check()
    assert report.problems() == [], report.summary()
    assert report.outcomes == {"ok": 32}, report.summary()
    assert workers.started[0].process.poll() is None
