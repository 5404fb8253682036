"""Routing refuses bad payloads before anything is enqueued, with errors that say what to fix."""

from pathlib import Path

import pytest

from producer.router import Router
from slmq.errors import InvalidPayloadError, PayloadTooLargeError, UnknownTaskTypeError
from slmq.fleet import load_fleet
from slmq.schemas import RefactorRequest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def router() -> Router:
    return Router(load_fleet(REPO / "fleet.toml"), max_payload_bytes=1_000)


def test_text_is_routed_to_its_model_queue_under_its_task_name(router: Router) -> None:
    routed = router.route("delivery_note", "12 pallets to Acme Ltd, Leith")
    assert (routed.task_name, routed.queue, routed.model) == (
        "slmq.delivery_note",
        "slmq.gemma3-notes",
        "gemma3-notes",
    )
    assert routed.payload == {"text": "12 pallets to Acme Ltd, Leith"}


def test_mappings_models_and_utf8_bytes_are_accepted(router: Router) -> None:
    assert router.route("summarize", {"text": "abc", "max_words": 10}).payload == {"text": "abc", "max_words": 10}
    request = RefactorRequest(text="x=1", instructions="rename x")
    assert router.route("refactor_python", request).payload == {"text": "x=1", "instructions": "rename x"}
    assert router.route("general", "café".encode()).payload == {"text": "café"}


def test_an_unknown_task_type_lists_the_known_ones(router: Router) -> None:
    with pytest.raises(UnknownTaskTypeError) as caught:
        router.route("sentimnt", "hello")
    assert str(caught.value) == (
        "Unknown task type 'sentimnt'; known task types: delivery_note, sentiment, summarize, refactor_python, general."
    )


def test_an_oversize_payload_gives_its_size_and_the_limit(router: Router) -> None:
    with pytest.raises(PayloadTooLargeError, match=r"is 1,012 bytes; the limit is 1,000 \(SLMQ_MAX_PAYLOAD_BYTES\)"):
        router.route("general", "x" * 1_000)


def test_bytes_that_are_not_utf8_name_the_byte_and_its_position(router: Router) -> None:
    with pytest.raises(InvalidPayloadError, match="byte 0xe9 at position 3"):
        router.route("general", b"caf\xe9")


def test_a_lone_surrogate_is_refused_with_its_position(router: Router) -> None:
    with pytest.raises(InvalidPayloadError, match="U\\+D800 at position 2 is a lone surrogate"):
        router.route("general", "ab\ud800cd")


def test_schema_violations_name_the_field(router: Router) -> None:
    with pytest.raises(InvalidPayloadError, match="Invalid delivery_note payload: text: String should have at least 1"):
        router.route("delivery_note", "")
    with pytest.raises(InvalidPayloadError, match="max_words"):
        router.route("summarize", {"text": "abc", "max_words": 1})
    with pytest.raises(InvalidPayloadError, match="tone: Extra inputs are not permitted"):
        router.route("general", {"text": "abc", "tone": "kind"})
    with pytest.raises(InvalidPayloadError, match="not list"):
        router.route("general", ["abc"])  # type: ignore[arg-type]
