"""Every task type through real Redis queues and real worker processes on the tiny model."""

import pytest
import redis

from producer import FleetClient
from slmq.errors import InvalidPayloadError, OutputValidationError, PayloadTooLargeError, UnknownTaskTypeError
from slmq.schemas import GeneralResult, RefactorResult, SentimentResult, SummaryResult
from tests.integration.conftest import Deployment, StartWorker

TIMEOUT_S = 120


@pytest.fixture(scope="module")
def client(deployment: Deployment, start_worker: StartWorker) -> FleetClient:
    start_worker("tiny")
    start_worker("tiny-notes")
    return FleetClient(deployment.settings())


def test_every_task_type_comes_back_typed_from_its_own_model(client: FleetClient) -> None:
    """Many tasks of each type round-trip through Redis and come back as typed results or typed errors."""
    # Given several distinct inputs of every task type
    texts = ["I love this product", "Terrible, it broke in a day", "It arrived on Tuesday", "Fine I guess"]
    handles = {
        task: [client.submit(task, text) for text in texts]
        for task in ("sentiment", "summarize", "general", "refactor_python", "delivery_note")
    }
    # When the workers answer them
    # Then each result has its task type's output type, and the notes fail typed: decoded against the schema, the
    # random model's records run to a few hundred tokens, cut off at the tiny fleet's 48 and then 96 tokens
    expected = {
        "sentiment": SentimentResult,
        "summarize": SummaryResult,
        "general": GeneralResult,
        "refactor_python": RefactorResult,
    }
    for task, result_type in expected.items():
        for handle in handles[task]:
            assert handle.model == ("tiny-notes" if task == "delivery_note" else "tiny")
            assert isinstance(handle.get(timeout=TIMEOUT_S), result_type)
    for handle in handles["delivery_note"]:
        with pytest.raises(OutputValidationError) as caught:
            handle.get(timeout=TIMEOUT_S)
        assert caught.value.raw_output.startswith('{"consignee":'), "the error keeps the model's raw output"
        assert caught.value.errors[-1] == "cut off at 96 tokens", "a cut-off output is retried with twice the budget"
        assert "delivery_note" in str(caught.value)


def test_sentiment_scores_are_probabilities_over_the_three_labels(client: FleetClient) -> None:
    result = client.submit("sentiment", "What a wonderful day").get(timeout=TIMEOUT_S)
    assert isinstance(result, SentimentResult)
    assert result.label in {"positive", "negative", "neutral"}
    assert 1 / 3 <= result.score <= 1.0


def test_map_yields_results_in_input_order(client: FleetClient) -> None:
    texts = [f"Question number {n}: what is {n} plus {n}?" for n in range(12)]
    singles = [client.submit("general", text).get(timeout=TIMEOUT_S) for text in texts]
    mapped = list(client.map("general", texts, timeout=TIMEOUT_S, window=5))
    assert mapped == singles


def test_bad_inputs_are_refused_before_anything_is_enqueued(client: FleetClient, deployment: Deployment) -> None:
    queues = redis.Redis.from_url(deployment.env["SLMQ_BROKER_URL"])
    before = queues.llen("slmq.tiny") + queues.llen("slmq.tiny-notes")
    with pytest.raises(UnknownTaskTypeError, match="known task types: delivery_note, sentiment"):
        client.submit("sentimnt", "hello")
    with pytest.raises(PayloadTooLargeError, match="SLMQ_MAX_PAYLOAD_BYTES"):
        client.submit("general", "x" * (client.settings.max_payload_bytes + 1))
    with pytest.raises(InvalidPayloadError, match="not valid UTF-8"):
        client.submit("general", b"caf\xe9 au lait")
    with pytest.raises(InvalidPayloadError, match="at most 4000 characters"):
        client.submit("delivery_note", "n" * 4001)
    assert queues.llen("slmq.tiny") + queues.llen("slmq.tiny-notes") == before


def test_a_task_type_sent_to_the_wrong_model_fails_typed(client: FleetClient) -> None:
    """A message that bypasses routing still ends in a typed error, and the worker goes on."""
    async_result = client.app.send_task("slmq.delivery_note", kwargs={"payload": {"text": "x"}}, queue="slmq.tiny")
    with pytest.raises(Exception) as caught:
        async_result.get(timeout=TIMEOUT_S)
    assert type(caught.value).__name__ == "TaskNotServedError"
    assert isinstance(client.submit("general", "still there?").get(timeout=TIMEOUT_S), GeneralResult)
