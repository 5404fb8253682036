"""`slmq metrics`: one Prometheus endpoint for the fleet, fed by real workers through Redis."""

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from producer import FleetClient
from slmq.errors import OutputValidationError
from tests.integration.conftest import Deployment, StartWorker, WorkerProcess

TIMEOUT_S = 120
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def workers(start_worker: StartWorker) -> dict[str, WorkerProcess]:
    return {model: start_worker(model, node=f"{model}@cpu") for model in ("tiny", "tiny-notes")}


@pytest.fixture(scope="module")
def endpoint(deployment: Deployment) -> Iterator[str]:
    port = free_port()
    log = (deployment.home / "metrics.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "slmq", "metrics", "--port", str(port)], env=deployment.env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"slmq metrics did not start: {(deployment.home / 'metrics.log').read_text()}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def scrape(url: str) -> Samples:
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def batches_logged(worker: WorkerProcess) -> list[int]:
    """The size of each batch the worker started (its start is logged before any of its results is stored)."""
    lines = worker.output().splitlines()
    return [int(line.split("Batch started: ")[1].split()[0]) for line in lines if "Batch started: " in line]


def settled(endpoint: str, workers: dict[str, WorkerProcess]) -> Samples:
    """The endpoint's samples once every batch each worker started is counted: a batch whose results were all stored
    early (as the native engine finished them) writes its own figures a moment after the last of them."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        samples = scrape(endpoint)
        counted = [value(samples, "slmq_batch_size_count", model=model) for model in workers]
        if counted == [len(batches_logged(worker)) for worker in workers.values()] or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


def test_the_endpoint_counts_what_the_workers_did(
    deployment: Deployment, workers: dict[str, WorkerProcess], endpoint: str
) -> None:
    # Given two workers and the exporter
    client = FleetClient(deployment.settings())
    # When sentiment and general tasks run on one model and delivery notes (cut off: tiny budget) on the other
    handles = [client.submit("sentiment", f"Delivery {n} arrived late and damaged") for n in range(6)]
    handles += [client.submit("general", f"Where is consignment {n}?") for n in range(3)]
    notes = [client.submit("delivery_note", "3 pallets to Acme Ltd, 14 Harbour Rd, Leith") for _ in range(2)]
    for handle in handles:
        handle.get(timeout=TIMEOUT_S)
    for note in notes:
        with pytest.raises(OutputValidationError):
            note.get(timeout=TIMEOUT_S)
    samples = settled(endpoint, workers)
    # Then the outcomes are counted by model, task type and outcome
    assert value(samples, "slmq_tasks_total", model="tiny", task_type="sentiment", outcome="ok") == 6
    assert value(samples, "slmq_tasks_total", model="tiny", task_type="general", outcome="ok") == 3
    assert (
        value(samples, "slmq_tasks_total", model="tiny-notes", task_type="delivery_note", outcome="invalid_output") == 2
    )
    assert value(samples, "slmq_task_latency_seconds_count", model="tiny", task_type="sentiment") == 6
    assert value(samples, "slmq_task_latency_seconds_sum", model="tiny", task_type="sentiment") > 0
    # And the batch-size histogram holds exactly the batches each worker logged
    for model, worker in workers.items():
        logged = batches_logged(worker)
        assert value(samples, "slmq_batch_size_count", model=model) == len(logged) > 0
        assert value(samples, "slmq_batch_size_sum", model=model) == sum(logged)
        assert value(samples, "slmq_batch_size_bucket", model=model, le="+Inf") == len(logged)
        assert value(samples, "slmq_batch_duration_seconds_count", model=model) == len(logged)
    # And generation is measured in tokens and seconds, the workers' gauges are there, and the queues are empty
    for model in workers:
        assert value(samples, "slmq_generated_tokens_total", model=model) > 0
        assert value(samples, "slmq_generation_seconds_total", model=model) > 0
        assert value(samples, "slmq_workers", model=model) == 1
        assert value(samples, "slmq_queue_depth", model=model, queue=f"slmq.{model}") == 0
        gauge = {"model": model, "node": f"{model}@cpu", "device": "cpu"}
        assert value(samples, "slmq_worker_resident_memory_bytes", **gauge) > 50 * 2**20
        assert value(samples, "slmq_model_load_seconds", **gauge) > 0
    # A message is acked just after its result is stored, so the last ack may trail the caller's get()
    assert wait_for(lambda: value(scrape(endpoint), "slmq_unacked_messages") == 0)


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_counts_outlive_a_worker_and_a_stopped_worker_leaves_the_count(
    workers: dict[str, WorkerProcess], endpoint: str
) -> None:
    # Given what the endpoint shows while both workers run
    before = scrape(endpoint)
    # When one worker stops cleanly
    assert workers["tiny-notes"].stop() == 0
    after = scrape(endpoint)
    # Then its counts stay, and it is no longer counted as a live worker
    assert (
        value(after, "slmq_batch_size_count", model="tiny-notes")
        == value(before, "slmq_batch_size_count", model="tiny-notes")
        > 0
    )
    assert value(after, "slmq_workers", model="tiny-notes") == 0
    assert value(after, "slmq_workers", model="tiny") == 1
    assert (
        "slmq_worker_resident_memory_bytes",
        frozenset({"model": "tiny-notes", "node": "tiny-notes@cpu", "device": "cpu"}.items()),
    ) not in after
