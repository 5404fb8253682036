"""Task types turn model output into typed results, or typed errors that keep the raw output."""

import json

from slmq.errors import OutputValidationError
from slmq.schemas import DeliveryNote, DeliveryNoteRequest, RefactorRequest, RefactorResult, SummarizeRequest
from tests.conftest import SHARED
from workers.model.runner import Generation
from workers.model.tasktypes import TASK_TYPES, Answered

NOTE = DeliveryNoteRequest(text="12 pallets of paper to Acme Ltd")


def test_every_task_type_has_a_worker_implementation() -> None:
    assert set(TASK_TYPES) == {"delivery_note", "sentiment", "summarize", "refactor_python", "general"}


def test_a_record_in_a_code_fence_with_chatter_is_parsed() -> None:
    gold = json.loads((SHARED / "data" / "delivery_notes_dev.jsonl").read_text().splitlines()[0])["gold"]
    text = f"Here you go:\n```json\n{json.dumps(gold)}\n```\nAnything else?"
    outcome = TASK_TYPES["delivery_note"]._outcome(Generation(text, 200, False), NOTE)  # type: ignore[attr-defined]
    assert outcome == Answered(DeliveryNote.model_validate(gold))


def test_invalid_json_becomes_a_typed_error_with_the_raw_output() -> None:
    outcome = TASK_TYPES["delivery_note"]._outcome(Generation('{"consignee": "Acme"}', 9, False), NOTE)  # type: ignore[attr-defined]
    assert isinstance(outcome, OutputValidationError)
    assert outcome.raw_output == '{"consignee": "Acme"}'
    assert "address: Field required" in str(outcome)
    assert outcome.errors[:2] == ["address: Field required", "items: Field required"]


def test_a_truncated_output_says_to_raise_max_new_tokens() -> None:
    outcome = TASK_TYPES["delivery_note"]._outcome(Generation('{"consignee": "Ac', 48, True), NOTE)  # type: ignore[attr-defined]
    assert isinstance(outcome, OutputValidationError)
    assert "stopped at max_new_tokens=48" in str(outcome)
    assert outcome.errors[-1] == "cut off at 48 tokens"


def test_only_json_output_task_types_declare_a_generation_schema() -> None:
    schemas = {name: getattr(task, "output_schema", lambda: None)() for name, task in TASK_TYPES.items()}
    assert {name for name, schema in schemas.items() if schema} == {"delivery_note"}
    # The generation schema is the contract's, with strings and lists bounded
    address = schemas["delivery_note"]["$defs"]["Address"]["properties"]  # type: ignore[index]
    assert address["city"]["anyOf"][0]["pattern"].endswith("{0,128}$")
    assert schemas["delivery_note"]["properties"]["items"]["maxItems"] == 40  # type: ignore[index]


def test_refactoring_suggestions_and_revised_code_are_separated() -> None:
    code = "def evens(xs):\n    return [x for x in xs if x % 2 == 0]"
    text = f"- Use a list comprehension\n2. Name the function clearly\n```python\n{code}\n```"
    result = TASK_TYPES["refactor_python"].parse(text, RefactorRequest(text="..."))  # type: ignore[attr-defined]
    assert result == RefactorResult(
        suggestions=["Use a list comprehension", "Name the function clearly"],
        revised_code=code,
    )


def test_a_summary_is_cut_to_max_words() -> None:
    result = TASK_TYPES["summarize"].parse("one two three four five six seven", SummarizeRequest(text="x", max_words=5))  # type: ignore[attr-defined]
    assert result.summary == "one two three four five"  # type: ignore[attr-defined]
