"""Queue-native batching: one model call for many queued messages, each answered on its own."""

from pathlib import Path

import pytest

from producer import FleetClient
from slmq.errors import OutputValidationError
from slmq.schemas import GeneralResult
from tests.integration.conftest import Deployment, StartWorker, make_deployment

TIMEOUT_S = 120
# One model serves a structured and a free-text task type, so one batch can hold both.
BATCH_FLEET = """
[models.tiny]
source = "path:{model_dir}"
quantization = "{quantization}"
max_batch = 8
max_wait_ms = 300
max_new_tokens = 16
context_limit = 512

[tasks.general]
model = "tiny"

[tasks.delivery_note]
model = "tiny"
"""
QUESTIONS = [f"Where is consignment {n}? It left depot {n * 7} on day {n}." for n in range(8)]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, module_redis_url: str, tiny_model_dir: Path) -> Deployment:
    # Unquantized, so that a row's numbers do not depend on its neighbours' quantization scales.
    return make_deployment(tmp_path_factory.mktemp("batching"), module_redis_url, tiny_model_dir, "none", BATCH_FLEET)


@pytest.fixture(scope="module")
def client(deployment: Deployment, start_worker: StartWorker) -> FleetClient:
    start_worker("tiny", node="tiny@batching")
    return FleetClient(deployment.settings())


def batch_sizes(deployment: Deployment) -> list[int]:
    """The size of each batch the worker started. A batch logs its start before any of its results is stored (a
    result the native engine finishes early is stored while its batch-mates still run, before the batch ends)."""
    log = (deployment.home / "tiny@batching.log").read_text()
    return [int(line.split("Batch started: ")[1].split()[0]) for line in log.splitlines() if "Batch started: " in line]


def test_a_lone_message_is_answered_after_max_wait_without_a_full_batch(
    client: FleetClient, deployment: Deployment
) -> None:
    before = len(batch_sizes(deployment))
    assert isinstance(client.submit("general", QUESTIONS[0]).get(timeout=TIMEOUT_S), GeneralResult)
    assert batch_sizes(deployment)[before:] == [1]


def test_concurrent_messages_share_a_batch_and_each_gets_its_own_answer(
    client: FleetClient, deployment: Deployment
) -> None:
    # Given each question's answer when it runs alone
    alone = [client.submit("general", question).get(timeout=TIMEOUT_S) for question in QUESTIONS]
    assert len({answer.answer for answer in alone}) > 1, "the inputs must have different outputs"  # type: ignore[attr-defined]
    before = len(batch_sizes(deployment))
    # When all are submitted at once
    handles = [client.submit("general", question) for question in QUESTIONS]
    together = [handle.get(timeout=TIMEOUT_S) for handle in handles]
    # Then they ran in fewer model calls than messages, and each got the answer it gets alone
    sizes = batch_sizes(deployment)[before:]
    assert sum(sizes) == len(QUESTIONS) and max(sizes) > 1
    assert together == alone


def test_one_invalid_output_in_a_batch_does_not_fail_the_others(client: FleetClient, deployment: Deployment) -> None:
    before = len(batch_sizes(deployment))
    note = client.submit("delivery_note", "3 pallets to Acme Ltd, 14 Harbour Rd, Leith")
    questions = [client.submit("general", question) for question in QUESTIONS[:5]]
    with pytest.raises(OutputValidationError):
        note.get(timeout=TIMEOUT_S)
    assert all(isinstance(handle.get(timeout=TIMEOUT_S), GeneralResult) for handle in questions)
    assert max(batch_sizes(deployment)[before:]) > 1


def test_the_log_names_each_task_in_its_batch_line_and_has_no_line_per_message(
    client: FleetClient, deployment: Deployment
) -> None:
    handle = client.submit("general", QUESTIONS[1])
    handle.get(timeout=TIMEOUT_S)
    lines = [line for line in (deployment.home / "tiny@batching.log").read_text().splitlines() if handle.id in line]
    # Celery's 'Task <name>[<id>] received' line, one per message, is off (it cost 41% of no-op tasks/s)
    assert len(lines) == 1 and "Batch started: 1 tasks" in lines[0], lines
