"""A worker in the middle of a long batch is still there for the fleet: it answers remote control (what `slmq status`
and `slmq parse` ask) and sends its heartbeats (what Flower shows), because the batch runs on the model's own thread."""

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from celery import Celery

from producer import FleetClient
from slmq.schemas import GeneralResult
from slmq.stores.status import fleet_status
from tests.faults.conftest import ENDLESS_FLEET, RedisServer, Workers, fault_deployment, mid_batch, wait_for
from tests.integration.conftest import Deployment, WorkerProcess

TIME_LIMIT_S = 12  # the batch below runs this long: the endless model ends a generation only at the time limit
# 8,000 new tokens take the tiny model well over the limit (2,000 took 4.8 s on a 2-vCPU Xeon)
BUSY_FLEET = ENDLESS_FLEET.replace("max_new_tokens = 2000", "max_new_tokens = 8000")
WINDOW_S = 5.0  # how long heartbeats are counted while it runs; Celery sends one every 2 s


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, redis_proc: RedisServer, endless_model_dir: Path
) -> Deployment:
    tmp = tmp_path_factory.mktemp("busy")
    return fault_deployment(
        tmp, redis_proc.url, endless_model_dir, BUSY_FLEET, SLMQ_TASK_TIME_LIMIT_S=str(TIME_LIMIT_S)
    )


@pytest.fixture(scope="module")
def worker(deployment: Deployment, workers_for: Callable[[Deployment], Workers]) -> WorkerProcess:
    return workers_for(deployment).start(node="tiny@busy")


def heartbeats(app: Celery, node: str, seconds: float) -> int:
    """How many worker heartbeats ``node`` sends in the next ``seconds`` (Celery's events, as Flower receives them)."""
    received: list[float] = []
    deadline = time.monotonic() + seconds
    with app.connection_for_read() as connection:
        handlers = {"worker-heartbeat": lambda event: event["hostname"] == node and received.append(event["timestamp"])}
        receiver = app.events.Receiver(connection, handlers=handlers)
        for _ in receiver.consume(limit=None, timeout=None, safety_interval=0.2):
            if time.monotonic() > deadline:
                break
    return len(received)


def test_a_worker_busy_with_a_long_batch_answers_remote_control_and_sends_heartbeats(
    deployment: Deployment, worker: WorkerProcess
) -> None:
    client = FleetClient(deployment.settings())
    # Given a batch that runs until the time limit
    handle = client.submit("general", "Where is consignment 7? It left the depot on Monday.")
    wait_for(lambda: mid_batch(worker), 60, "the worker never started the batch", poll=0.01)
    started = time.monotonic()
    # When the fleet asks for the worker while the batch runs
    pong = client.app.control.ping(destination=[worker.node], timeout=2.0)
    status = fleet_status(deployment.settings())
    beats = heartbeats(client.app, worker.node, WINDOW_S)
    # Then it answers remote control, `slmq status` lists it, and it sends heartbeats, all before the batch ends
    assert pong == [{worker.node: {"ok": "pong"}}]
    assert worker.node in status and "slmq.tiny" in status
    assert beats >= 2, f"{beats} heartbeats in {WINDOW_S:g} s of a batch"
    assert mid_batch(worker) and time.monotonic() - started < TIME_LIMIT_S, "the batch ended before the checks did"
    # And the batch is answered when the time limit stops it
    assert isinstance(handle.get(timeout=TIME_LIMIT_S * 4), GeneralResult)
