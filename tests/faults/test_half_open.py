"""A paused Redis (a half-open connection: never an answer) fails calls within SLMQ_BROKER_TIMEOUT_S, never hangs."""

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from producer.jobs import job_store
from slmq.stores.broker import create_app
from slmq.stores.connections import broker_client
from slmq.stores.deadletters import DeadLetters
from tests.faults.conftest import RedisServer, Workers, fault_deployment, texts, wait_for
from tests.faults.ledger import Ledger
from tests.integration.conftest import Deployment

TIMEOUT_S = 3.0  # FAULT_ENV's SLMQ_BROKER_TIMEOUT_S
SLACK_S = 4.0


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, redis_proc: RedisServer, tiny_model_dir: Path) -> Deployment:
    return fault_deployment(
        tmp_path_factory.mktemp("half-open"), redis_proc.url, tiny_model_dir, SLMQ_WORKER_DEAD_AFTER_S="6"
    )


@pytest.fixture
def paused(redis_proc: RedisServer) -> Iterator[RedisServer]:
    """Redis SIGSTOPped for the test, resumed afterwards whatever happens."""
    redis_proc.pause()
    try:
        yield redis_proc
    finally:
        redis_proc.resume()


def seconds_to_fail(call: Callable[[], object]) -> float:
    """How long ``call`` took to raise a RedisError; the test fails if it still runs after the timeout and slack."""
    outcome: list[BaseException | None] = []
    started = time.monotonic()

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(TIMEOUT_S + SLACK_S)
    assert outcome, f"the call still hangs {TIMEOUT_S + SLACK_S:g}s into a Redis pause"
    assert isinstance(outcome[0], redis.RedisError), outcome
    return time.monotonic() - started


def test_every_store_client_fails_within_the_broker_timeout_on_a_paused_redis(
    deployment: Deployment, paused: RedisServer
) -> None:
    # Given the clients of the job store, the dead letters and the worker's stores, made while Redis answered
    settings = deployment.settings().model_copy(update={"broker_timeout_s": TIMEOUT_S})
    stores = {
        "job store": job_store(settings).client,
        "dead letters": DeadLetters(create_app(settings)).client,
        "worker stores": broker_client(settings),
    }
    # When Redis stops answering, then each call fails with a RedisError within the timeout
    for name, client in stores.items():
        assert seconds_to_fail(lambda c=client: c.hgetall("slmq.job.any")) < TIMEOUT_S + SLACK_S, name


def test_a_worker_whose_redis_pauses_fails_its_calls_in_time_and_answers_once_redis_is_back(
    workers: Workers, redis_proc: RedisServer, ledger: Ledger
) -> None:
    # Given a worker answering tasks
    worker = workers.start(node="tiny@half-open")
    for text in texts("before-pause", 4):
        ledger.submit("summarize", text)
    ledger.wait(120)
    # When Redis stops answering for several broker timeouts
    redis_proc.pause()
    try:
        wait_for(lambda: "Cannot write this worker's heartbeat" in worker.output(), 3 * TIMEOUT_S + SLACK_S,
                 "the worker's heartbeat hangs on the paused Redis")  # fmt: skip
    finally:
        redis_proc.resume()
    # Then, once Redis is back, it answers new tasks, and nothing was lost or answered twice
    for text in texts("after-pause", 4):
        ledger.submit("summarize", text)
    ledger.wait(120)
    report = ledger.check()
    assert report.problems() == [] and report.outcomes == {"ok": 8}, report.summary()
    assert worker.process.poll() is None
