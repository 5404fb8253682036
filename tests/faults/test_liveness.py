"""A dead worker's messages are answered within seconds of its heartbeat going stale, not a visibility timeout.

The time limit here is long (its visibility timeout is over four minutes) and the dead-after time short, so a
message that came back only by the visibility timeout would miss every deadline below.
"""

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slmq.constants import ALIVE_KEY, INFLIGHT_KEY, KOMBU_UNACKED_KEY, OWNED_KEY_PREFIX, worker_metrics_key
from tests.faults.conftest import RedisServer, Workers, fault_deployment, kill_mid_batch, texts, wait_for
from tests.faults.ledger import Ledger
from tests.integration.conftest import Deployment
from workers.liveness import reclaim_dead

DEAD_AFTER_S = 3.0
# Liveness env: SLMQ_TASK_TIME_LIMIT_S=60 puts the visibility timeout at 2 x (2 x 2 x 60) + 10 = 250 s.
LIVENESS_ENV = {
    "SLMQ_TASK_TIME_LIMIT_S": "60",
    "SLMQ_WORKER_DEAD_AFTER_S": str(DEAD_AFTER_S),
    "SLMQ_WORKERS_PER_HOST": "2",
}
VISIBILITY_TIMEOUT_S = 250
# The dead-after time, a beat and a sweep, then a batch of the tiny model and its wait, on a loaded 2-core machine.
ANSWERED_WITHIN_S = 45


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, redis_proc: RedisServer, tiny_model_dir: Path) -> Deployment:
    return fault_deployment(tmp_path_factory.mktemp("liveness"), redis_proc.url, tiny_model_dir, **LIVENESS_ENV)


@pytest.fixture(autouse=True)
def no_worker_outlives_its_test(workers: Workers) -> Iterator[None]:
    """Each test counts beats and held messages of its own workers: one that failed leaves none running."""
    yield
    workers.kill_all()


def held_by_workers(redis_proc: RedisServer) -> int:
    """Messages that some worker process holds, as recorded in Redis: unacked ones (its owned hash), and those its
    event loop's blocking pop moved into its in-flight list (a pop Redis answered while the worker was paused)."""
    client = redis_proc.client()
    owned = sum(int(client.hlen(key)) for key in client.scan_iter(f"{OWNED_KEY_PREFIX}*"))
    return owned + sum(int(client.llen(key)) for key in client.scan_iter(f"{INFLIGHT_KEY}:*"))


def test_a_worker_sigkilled_mid_batch_has_its_messages_answered_by_the_other_within_seconds(
    workers: Workers, ledger: Ledger, redis_proc: RedisServer
) -> None:
    # Given two workers on one queue (each with its share of the two cores) and a queue of tasks
    first, second = workers.start(node="tiny@doomed"), workers.start(node="tiny@survivor")
    threads = redis_proc.client().hget(worker_metrics_key(first.node), "torch_threads")
    assert threads is not None and float(threads) == max(1, len(os.sched_getaffinity(0)) // 2)
    for text in texts("liveness-kill", 32):
        ledger.submit("summarize", text)
    # When the first worker is SIGKILLed mid-batch
    kill_mid_batch(first, signal.SIGKILL, redis_proc.client())
    killed_at = time.monotonic()
    first.process.wait(timeout=30)
    # Then the survivor answers every task, the killed one's included, long before a visibility timeout
    ledger.wait(ANSWERED_WITHIN_S)
    waited = time.monotonic() - killed_at
    report = ledger.check()
    assert report.problems() == [], f"{report.summary()} after {waited:.0f}s (visibility {VISIBILITY_TIMEOUT_S}s)"
    assert report.outcomes == {"ok": 32} and report.redelivered >= 1, report.summary()
    assert "stopped beating" in second.output(), second.output()[-3000:]
    second.stop()


def test_a_paused_worker_that_wakes_after_its_messages_moved_adds_no_second_answer(
    workers: Workers, ledger: Ledger, redis_proc: RedisServer
) -> None:
    # Given two workers and a queue of tasks
    sleeper, steady = workers.start(node="tiny@sleeper"), workers.start(node="tiny@steady")
    for text in texts("liveness-pause", 24):
        ledger.submit("summarize", text)
    # When one is SIGSTOPped mid-batch until the other has answered everything, then resumed
    kill_mid_batch(sleeper, signal.SIGSTOP, redis_proc.client())
    try:
        ledger.wait(ANSWERED_WITHIN_S)
        answered_while_paused = len(ledger.sent) - len(ledger.pending())
    finally:
        sleeper.process.send_signal(signal.SIGCONT)
    wait_for(lambda: "Answered a batch" in sleeper.output().rsplit("Batch started", 1)[-1], 60, "it never woke")
    # Then everything was answered while it slept, and its late batch stored no second, different answer
    report = ledger.check()
    assert answered_while_paused == 24, report.summary()
    assert report.problems() == [] and report.outcomes == {"ok": 24}, report.summary()
    assert sleeper.process.poll() is None and steady.process.poll() is None
    sleeper.stop()
    steady.stop()


def test_two_sweepers_at_once_put_each_message_of_a_dead_worker_back_once(
    workers: Workers, ledger: Ledger, redis_proc: RedisServer
) -> None:
    # Given a worker that holds a batch and its prefetch, then stops beating (SIGSTOP), with no other worker
    holder = workers.start(node="tiny@holder")
    for text in texts("liveness-sweep", 12):
        ledger.submit("summarize", text)
    kill_mid_batch(holder, signal.SIGSTOP, redis_proc.client())
    client = redis_proc.client()
    held, queued = held_by_workers(redis_proc), int(client.llen("slmq.tiny"))
    assert held >= 1
    # When, once its beat is stale, eight sweepers run at the same moment
    wait_for(lambda: not client.zrangebyscore(ALIVE_KEY, time.time() - DEAD_AFTER_S, "+inf"), 30, "it kept beating")
    results: list[tuple[int, int]] = []
    start = threading.Barrier(8)

    def sweep() -> None:
        sweeper = redis_proc.client()
        start.wait()
        results.append(reclaim_dead(sweeper, DEAD_AFTER_S))

    sweepers = [threading.Thread(target=sweep) for _ in range(8)]
    for thread in sweepers:
        thread.start()
    for thread in sweepers:
        thread.join(timeout=30)
    # Then one of them found it (and the workers stopped before it) dead and moved each message it held once
    assert [moved for _, moved in results if moved] == [held] and sum(dead > 0 for dead, _ in results) == 1, results
    assert int(client.llen("slmq.tiny")) == queued + held
    assert held_by_workers(redis_proc) == 0 and int(client.hlen(KOMBU_UNACKED_KEY)) == 0
    # And a new worker answers every task once, while the holder is still paused
    replacement = workers.start(node="tiny@replacement")
    ledger.wait(ANSWERED_WITHIN_S)
    holder.process.kill()
    report = ledger.check()
    assert report.problems() == [] and report.outcomes == {"ok": 12}, report.summary()
    replacement.stop()
