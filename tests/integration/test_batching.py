"""Queue-native batching: one model call for many queued messages, each answered on its own."""

from pathlib import Path

import pytest

from producer import FleetClient
from slmq.errors import OutputValidationError
from slmq.schemas import GeneralResult
from tests.integration.conftest import Deployment, StartWorker, make_deployment

TIMEOUT_S = 120
# One model serves a structured and a free-text task type, so one batch can hold both; on the native engine, whose
# batches take messages that arrive while they run.
BATCH_FLEET = """
[models.tiny]
source = "path:{model_dir}"
quantization = "{quantization}"
engine = "native"
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


def batch_sizes(deployment: Deployment, event: str = "Batch started") -> list[int]:
    """The size of each batch the worker started (or, with ``event="Joined the running batch"``, of each group of
    messages that joined one). A batch logs its start before any of its results is stored (a result the native engine
    finishes early is stored while its batch-mates still run, before the batch ends), and a group as it joins."""
    log = (deployment.home / "tiny@batching.log").read_text()
    return [int(line.split(f"{event}: ")[1].split()[0]) for line in log.splitlines() if f"{event}: " in line]


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
    before, joined_before = len(batch_sizes(deployment)), len(batch_sizes(deployment, "Joined the running batch"))
    # When all are submitted at once
    handles = [client.submit("general", question) for question in QUESTIONS]
    together = [handle.get(timeout=TIMEOUT_S) for handle in handles]
    # Then they ran in fewer model calls than messages (some may have joined a running batch), each with its answer
    sizes = batch_sizes(deployment)[before:]
    joined = sum(batch_sizes(deployment, "Joined the running batch")[joined_before:])
    assert sum(sizes) + joined == len(QUESTIONS) and max(sizes) > 1
    assert together == alone


def test_messages_that_wait_while_a_batch_runs_join_it_and_get_the_answers_they_get_alone(
    client: FleetClient, deployment: Deployment
) -> None:
    # Given twice as many questions as a batch holds, and each one's answer when it runs alone
    questions = [f"{question} Again, for crate {n}." for n, question in enumerate(QUESTIONS * 2)]
    alone = [client.submit("general", question).get(timeout=TIMEOUT_S) for question in questions]
    before, joined_before = len(batch_sizes(deployment)), len(batch_sizes(deployment, "Joined the running batch"))
    # When all are submitted at once: the worker takes a batch's worth, the rest wait on the queue
    handles = [client.submit("general", question) for question in questions]
    together = [handle.get(timeout=TIMEOUT_S) for handle in handles]
    # Then those waiting joined the running batch as its rows finished, instead of waiting for a batch of their own,
    # and each got the answer it gets alone
    started = batch_sizes(deployment)[before:]
    joined = batch_sizes(deployment, "Joined the running batch")[joined_before:]
    assert sum(started) + sum(joined) == len(questions) and sum(joined) > 0
    assert len(started) < len(questions) / 8 + 1
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
