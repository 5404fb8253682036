"""The schema loop on a tiny random model: constrained decoding, validation, re-asks and larger budgets.

A random model is the right test: left free it writes garbage, so every valid record below is the
grammar's doing. Every call goes through the real runner; a recorder only notes what each call was given.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from slmq.errors import OutputValidationError
from slmq.fleet import ModelSpec
from slmq.schemas import GENERAL, DeliveryNote, DeliveryNoteRequest, GeneralRequest
from workers.meter import outcome_label
from workers.model.grammar import generation_schema
from workers.model.runner import Generation, Messages, ModelRunner, chat_ids
from workers.model.tasktypes import TASK_TYPES
from workers.model.tasktypes.base import Answered, GenerativeTaskType
from workers.model.tasktypes.delivery_note import DeliveryNoteTask

NOTES = [
    "12 pallets of paper to Acme Ltd",
    "Deliver 3 boxes of bolts and 2 drums of oil to Jim at Harbour Works, 14 Harbour Rd, Leith EH6 6QQ before "
    "Friday 10am. Call 07700 900123 on arrival. PO 7731-22. Leave with reception if nobody answers.",
    "hi",
    "Ship to: Fabrik GmbH, Hauptstr. 5, 80331 München. 1,500 kg Mehl.",
]
BUDGET = 640  # a random model fills its strings to their bound: a whole record is a few hundred tokens here


class Recorder:
    """Wraps ``runner.generate`` to note each call's conversations and budget; the real call still runs."""

    def __init__(self, runner: ModelRunner) -> None:
        self.calls: list[tuple[list[Messages], int]] = []
        generate = runner.generate

        def recorded(
            conversations: list[Messages],
            max_new_tokens: int,
            constraint: Any = None,
            on_generation: Any = None,
            more: Any = None,
        ) -> list[Any]:
            self.calls.append((conversations, max_new_tokens))
            return generate(conversations, max_new_tokens, constraint, on_generation, more)

        setattr(runner, "generate", recorded)  # noqa: B010


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> ModelRunner:
    return load(tiny_model_dir, context_limit=1024)


def load(model_dir: Path, context_limit: int = 2048) -> ModelRunner:
    spec = ModelSpec(name="tiny", source=f"path:{model_dir}", quantization="none", context_limit=context_limit)  # type: ignore[arg-type]
    return ModelRunner.load(spec, model_dir, "cpu")


@pytest.fixture
def recorder(model: ModelRunner) -> Iterator[Recorder]:
    recorder = Recorder(model)
    yield recorder
    del model.generate  # back to the class's method


def requests(texts: list[str]) -> list[BaseModel]:
    return [DeliveryNoteRequest(text=text) for text in texts]


def test_unconstrained_the_random_model_writes_no_record(model: ModelRunner) -> None:
    # Given the random model and notes of very different lengths, with the constraint off
    # When the batch runs without re-asks
    outcomes = TASK_TYPES["delivery_note"].run(model, requests(NOTES), 96, constrained=False, reasks=0)
    # Then no note gets a record, and no output even starts as one
    for outcome in outcomes:
        assert isinstance(outcome, OutputValidationError)
        assert not outcome.raw_output.startswith("{")


def test_every_json_output_task_type_gives_a_valid_record_for_every_note_of_a_mixed_batch(model: ModelRunner) -> None:
    structured = [task for task in TASK_TYPES.values() if getattr(task, "output_schema", lambda: None)()]
    assert [task.name for task in structured] == ["delivery_note"]
    for task in structured:
        # Given the task type's own generation schema, with its bounds tightened so that a random model, which
        # runs every string to its bound and may list up to 40 items, always ends within the tiny context
        assert task.output_schema() == generation_schema(task.spec.result)  # type: ignore[attr-defined]

        class Tight(type(task)):  # type: ignore[misc]
            def output_schema(self) -> dict[str, Any]:
                return generation_schema(self.spec.result, max_string=16, max_items=3)

        # And a left-padded batch of notes from 2 to 200 characters
        # When it runs constrained, with no second attempt allowed
        outcomes = Tight().run(model, requests(NOTES), BUDGET, constrained=True, reasks=0)
        # Then every note has a record of the output schema, valid on the first attempt
        for outcome in outcomes:
            assert isinstance(outcome, Answered) and isinstance(outcome.result, task.spec.result), outcome
            assert outcome.retries == 0


class ShortNoteTask(DeliveryNoteTask):
    """delivery_note with strings bounded at 12 characters: short records, so the retry tests run fast."""

    def output_schema(self) -> dict[str, Any]:
        return generation_schema(DeliveryNote, max_string=12)


def test_a_cut_off_output_is_retried_with_twice_the_budget_and_the_result_counts_as_re_asked(
    model: ModelRunner, recorder: Recorder
) -> None:
    task = ShortNoteTask()
    # Given a note whose record takes L tokens (compact JSON, the contract's key order), and a budget of L/2 + 1
    constraint = model.json_constraint(task.output_schema())
    (full,) = model.generate([task.messages(requests(NOTES[:1])[0])], BUDGET, constraint)
    assert isinstance(full, Generation) and not full.truncated
    assert list(json.loads(full.text)) == list(DeliveryNote.model_fields) and "\n" not in full.text
    budget = full.new_tokens // 2 + 1
    recorder.calls.clear()
    # When it runs with one further attempt allowed
    (outcome,) = task.run(model, requests(NOTES[:1]), budget, reasks=1)
    # Then the first output was cut off, the same conversation ran again with twice the budget, and it is valid
    assert [b for _, b in recorder.calls] == [budget, 2 * budget]
    assert recorder.calls[1][0] == recorder.calls[0][0]
    assert isinstance(outcome, Answered) and isinstance(outcome.result, DeliveryNote)
    assert outcome.retries == 1
    assert outcome_label(outcome) == "re-asked"
    # And the schema was compiled once: asking for it again gives the cached constraint
    assert model.json_constraint(task.output_schema()) is model.json_constraint(task.output_schema())


def test_the_larger_budget_stops_at_the_context_limit_and_the_last_error_keeps_output_and_errors(
    tiny_model_dir: Path,
) -> None:
    # Given a model whose context leaves room for 20 new tokens after the note's prompt
    task = ShortNoteTask()
    prompt = len(chat_ids(load(tiny_model_dir).tokenizer, task.messages(requests(NOTES[:1])[0])))
    runner = load(tiny_model_dir, context_limit=prompt + 20)
    recorder = Recorder(runner)
    # When a note runs with a budget of 12 and two further attempts allowed
    (outcome,) = task.run(runner, requests(NOTES[:1]), 12, reasks=2)
    # Then it ran at 12, then at 20 (not 24), then stopped: no room left to grow
    assert [b for _, b in recorder.calls] == [12, 20]
    # And the typed error keeps the cut-off output and what was wrong with it
    assert isinstance(outcome, OutputValidationError)
    assert outcome.raw_output.startswith('{"consignee":')
    assert outcome.errors[-1] == "cut off at 20 tokens"
    assert "after 2 attempts" in str(outcome) and "max_new_tokens=20" in str(outcome)


class Word(BaseModel):
    word: str


class Yes(BaseModel):
    word: Literal["yes"]


class YesTask(GenerativeTaskType[GeneralRequest, Any]):
    """Asks for a word and accepts only "yes": schema-valid output the model check rejects."""

    spec = GENERAL

    def output_schema(self) -> dict[str, Any]:
        return generation_schema(Word, max_string=6)

    def messages(self, request: GeneralRequest) -> Messages:
        return [{"role": "user", "content": request.text}]

    def parse(self, text: str, request: GeneralRequest) -> Yes:
        return Yes.model_validate_json(text)


def test_a_schema_valid_but_invalid_output_is_re_asked_with_its_errors_in_one_batch_then_fails_typed(
    model: ModelRunner, recorder: Recorder
) -> None:
    # Given three questions whose answers fit the schema but fail the result model
    questions = [GeneralRequest(text=text) for text in ("Say yes", "Is it on time? Answer in one word please", "ok")]
    # When they run with one re-ask allowed
    outcomes = YesTask().run(model, list(questions), 32, reasks=1)
    # Then all three were re-asked in one second call, with the same budget, each shown its output and errors
    assert [len(c) for c, _ in recorder.calls] == [3, 3] and [b for _, b in recorder.calls] == [32, 32]
    for first, second, outcome in zip(recorder.calls[0][0], recorder.calls[1][0], outcomes, strict=True):
        assert isinstance(outcome, OutputValidationError)
        assert second[: len(first)] == first
        answer, reask = second[len(first) :]
        assert answer["role"] == "assistant" and json.loads(answer["content"])["word"] != "yes"
        assert reask["role"] == "user" and "word: Input should be 'yes'" in reask["content"]
        # And the final error keeps the second output, parseable JSON, and its errors
        assert json.loads(outcome.raw_output)["word"] != "yes"
        assert outcome.errors == ["word: Input should be 'yes'"]
        assert "after 2 attempts" in str(outcome)
