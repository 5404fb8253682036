"""Job lines cannot be dropped: a record Redis refuses is retried before the ack, and a re-driven dead letter counts."""

import json
from pathlib import Path

import pytest

from producer import FleetClient
from slmq.constants import JOB_HEADER, job_results_key
from slmq.stores.broker import create_app
from slmq.stores.deadletters import DeadLetters
from tests.faults.conftest import RedisServer, Workers, fault_deployment, wait_for
from tests.faults.ledger import RESULT_PREFIX
from tests.integration.conftest import Deployment, write_fleet

TIMEOUT_S = 180
# Unconstrained and never re-asked, the tiny random model writes no valid delivery-note record; constrained
# (the grammar and the copy constraint) it always does, so a dead letter of the first fleet passes in the second.
JOBS_FLEET = """
[models.tiny]
source = "path:{{model_dir}}"
quantization = "{{quantization}}"
max_batch = 4
max_wait_ms = 50
max_new_tokens = 800
context_limit = 2048

[tasks.summarize]
model = "tiny"
max_new_tokens = 8

[tasks.delivery_note]
model = "tiny"
constrained = {constrained}
reasks = 0
max_new_tokens = {budget}
"""
BROKEN_FLEET = JOBS_FLEET.format(constrained="false", budget=16)
FIXED_FLEET = JOBS_FLEET.format(constrained="true", budget=800)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, redis_proc: RedisServer, tiny_model_dir: Path) -> Deployment:
    return fault_deployment(
        tmp_path_factory.mktemp("job-records"), redis_proc.url, tiny_model_dir, BROKEN_FLEET,
        SLMQ_TASK_TIME_LIMIT_S="60",
    )  # fmt: skip


def notes(path: Path, count: int, tag: str) -> Path:
    texts = [f"{tag} {n}: 3 pallets to Acme Ltd, 12 High St, Leeds." for n in range(count)]
    path.write_text("".join(json.dumps({"id": f"{tag}{n}", "text": text}) + "\n" for n, text in enumerate(texts)))
    return path


def test_a_line_record_redis_refuses_is_retried_before_the_ack_and_the_job_finishes(
    deployment: Deployment, workers: Workers, redis_proc: RedisServer, tmp_path: Path
) -> None:
    # Given a job of six lines fed while no worker runs, whose results hash Redis will refuse to write (WRONGTYPE)
    client = redis_proc.client()
    job = FleetClient(deployment.settings()).submit_job(notes(tmp_path / "six.jsonl", 6, "refused"), "summarize")
    wait_for(lambda: int(client.llen("slmq.tiny")) == 6, TIMEOUT_S, "the job was not fed")
    client.set(job_results_key(job.id), "not a hash")
    # When a worker answers the lines while every record fails, and Redis takes the records again later
    worker = workers.start(node="tiny@recorder", wait=False)  # it may be retrying before it could answer a ping
    wait_for(lambda: "Cannot record line" in worker.output(), TIMEOUT_S, "no record was refused")
    # (a line's result is stored, and its message acked, only once its record is in: none is yet)
    assert not list(client.scan_iter(f"{RESULT_PREFIX}{job.id}:*")), "a result was stored before its line's record"
    client.delete(job_results_key(job.id))
    # Then the job finishes with every line answered, each once
    status = job.wait(timeout=TIMEOUT_S)
    assert (status.state, status.done, status.failed) == ("finished", 6, 0), status
    records = list(job.results())
    assert sorted(record["id"] for record in records) == [f"refused{n}" for n in range(6)]
    assert all(record["result"] is not None for record in records)
    worker.stop()


def test_a_dead_lettered_job_line_re_driven_replaces_its_failure_in_the_job(
    deployment: Deployment, workers: Workers, tmp_path: Path, tiny_model_dir: Path
) -> None:
    # Given a job whose every line the model failed and dead-lettered
    worker = workers.start(node="tiny@broken")
    job = FleetClient(deployment.settings()).submit_job(notes(tmp_path / "three.jsonl", 3, "note"), "delivery_note")
    failed = job.wait(timeout=TIMEOUT_S)
    assert (failed.state, failed.done, failed.failed) == ("finished", 0, 3), failed
    letters = DeadLetters(create_app(deployment.settings())).list("slmq.tiny")
    assert len(letters) == 3 and all(letter.headers.get(JOB_HEADER) == job.id for letter in letters), letters
    # When the cause is fixed (a worker that decodes against the schema) and the dead letters are re-driven
    worker.stop()
    write_fleet(Path(deployment.env["SLMQ_FLEET"]).parent, tiny_model_dir, "none", FIXED_FLEET)
    fixed = workers.start(node="tiny@fixed")
    retried = deployment.cli("dlq", "retry", "--all")
    assert retried.returncode == 0, retried.stderr
    # Then each line's new answer replaces its failure, and the job counts them done
    wait_for(lambda: job.status().done == 3, TIMEOUT_S, f"the re-driven lines were not recorded: {job.status()}")
    final = job.status()
    assert (final.state, final.done, final.failed, final.failures_by_type) == ("finished", 3, 0, {}), final
    assert all(record["error"] is None and record["result"] is not None for record in job.results())
    fixed.stop()
