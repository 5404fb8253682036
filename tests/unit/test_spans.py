"""Copy decoding: string values held to verbatim spans of the note, on top of the JSON grammar.

The tiny random model left to the grammar alone fills its strings with whatever it likes, so a record
whose every string is a span of its note is the copy constraint's doing.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import torch

from slmq.errors import InvalidPayloadError
from slmq.fleet import ModelSpec
from slmq.schemas import DeliveryNote, DeliveryNoteRequest
from workers.model.grammar import bitmask_ids
from workers.model.runner import Generation, ModelRunner
from workers.model.spans import JsonPosition, SpanRow, SpanTable, span_source
from workers.model.tasktypes import TASK_TYPES, Answered
from workers.model.tasktypes.base import GenerativeTaskType

NOTES = [
    "Deliver 3 boxes of bolts to Jim at Harbour Works,\n14 Harbour Rd, Leith EH6 6QQ before Friday 10am.",
    "Ship to: Fabrik GmbH, Hauptstr. 5, 80331 München. 1,500 kg Mehl. Call 0171 2233.",
    "hi",
]
SOURCE = b"Acme Ltd, 14 Harbour Rd"
VALUE = re.compile(r':"([^"]*)"')  # a string value in compact JSON, even in a record cut off later


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> ModelRunner:
    spec = ModelSpec(name="tiny", source=f"path:{tiny_model_dir}", quantization="none", context_limit=1024)
    return ModelRunner.load(spec, tiny_model_dir, "cpu")


def strings(record: Any) -> list[str]:
    """Every string value in a parsed JSON record, nested ones included."""
    if isinstance(record, str):
        return [record]
    if isinstance(record, dict):
        return [text for value in record.values() for text in strings(value)]
    if isinstance(record, list):
        return [text for value in record for text in strings(value)]
    return []


def test_the_source_is_the_note_with_whitespace_collapsed() -> None:
    assert span_source("  Harbour Works,\n14  Harbour\tRd ") == b"Harbour Works, 14 Harbour Rd"
    assert span_source("München") == "München".encode()


def test_a_position_tells_keys_from_values_through_nested_objects_and_lists() -> None:
    # Given a compact record written a few bytes at a time, as tokens arrive
    position = JsonPosition()
    for piece in [b'{"consignee":"Acme', b' Ltd","address":{"street":"14 Harbour Rd"', b'},"items":[{"quantity":3']:
        after = position.after(piece, SOURCE)
        assert after is not None
        position = after
    # Then keys were never held to the source, and the values were
    assert position.containers == b"{[{" and position.value is None and not position.done
    # And a value that leaves the source is refused, while a key that is not in it is not
    assert position.after(b',"unit":"Hamb', SOURCE) is None
    assert position.after(b',"unit":"Harb', SOURCE) is not None
    # And the record is done when its outermost object closes
    closed = position.after(b',"unit":null}]}', SOURCE)
    assert closed is not None and closed.done


def test_continuations_are_the_tokens_that_extend_a_value_along_any_occurrence() -> None:
    # Given a vocabulary of byte strings, two of them with quotes
    vocab = [b"Ha", b"r", b"rb", b"bour", b"Lt", b"d", b'"', b'",', b" 14", b"Z"]
    table = SpanTable(vocab)
    assert table.quoted.tolist() == [6, 7]
    # Then after "Ha" only what follows "Ha" in the source can come; from nothing, any start of a span
    assert table.continuations(SOURCE, b"Ha") == {1, 2}  # "r", "rb"
    assert table.continuations(SOURCE, b"Harbour Rd") == set()
    assert {0, 4, 5, 8} <= table.continuations(SOURCE, b"") and 9 not in table.continuations(SOURCE, b"")


def test_copied_records_hold_only_spans_of_their_own_notes(model: ModelRunner) -> None:
    # Given the delivery-note schema and three notes in one batch
    task = TASK_TYPES["delivery_note"]
    assert isinstance(task, GenerativeTaskType)
    schema = task.output_schema()
    assert schema is not None
    conversations = [task.messages(DeliveryNoteRequest(text=note)) for note in NOTES]
    # When the random model writes records with the grammar alone, and with the copy constraint too
    free = model.generate(conversations, 640, model.json_constraint(schema))
    copied = model.generate(conversations, 640, model.json_constraint(schema, copy_from=NOTES))
    # Then alone it writes strings that are in no note; copying, every string is a span of its own note
    free_strings = [text for g in free if isinstance(g, Generation) for text in VALUE.findall(g.text)]
    assert any(text.encode() not in span_source(" ".join(NOTES)) for text in free_strings)
    for note, generation in zip(NOTES, copied, strict=True):
        assert isinstance(generation, Generation) and not generation.truncated
        record = DeliveryNote.model_validate_json(generation.text)
        assert all(text.encode() in span_source(note) for text in strings(record.model_dump())), generation.text


def test_a_task_run_copies_by_default_and_not_when_the_fleet_turns_it_off(model: ModelRunner) -> None:
    task = TASK_TYPES["delivery_note"]
    requests = [DeliveryNoteRequest(text=note) for note in NOTES]
    copied = task.run(model, list(requests), 640, reasks=0)
    free = task.run(model, list(requests), 640, reasks=0, copy_spans=False)
    for note, outcome in zip(NOTES, copied, strict=True):
        assert isinstance(outcome, Answered) and isinstance(outcome.result, DeliveryNote)
        assert all(text.encode() in span_source(note) for text in strings(outcome.result.model_dump()))
    records = [outcome.result for outcome in free if isinstance(outcome, Answered)]
    free_texts = [text for record in records for text in strings(record.model_dump())]
    assert any(text.encode() not in span_source(" ".join(NOTES)) for text in free_texts)


def test_a_prompt_too_long_for_the_batch_does_not_shift_the_other_rows_sources(model: ModelRunner) -> None:
    # Given a first note too long for the context, then notes that share no text with it
    task = TASK_TYPES["delivery_note"]
    assert isinstance(task, GenerativeTaskType)
    schema = task.output_schema()
    assert schema is not None
    notes = ["zq " * 1300, *NOTES]
    conversations = [task.messages(DeliveryNoteRequest(text=note)) for note in notes]
    # When they are generated in one call with each row copying from its own note
    generations = model.generate(conversations, 640, model.json_constraint(schema, copy_from=notes))
    # Then the long one is refused alone, and every other row copied from its own note, not its neighbour's
    assert isinstance(generations[0], InvalidPayloadError)
    for note, generation in zip(NOTES, generations[1:], strict=True):
        assert isinstance(generation, Generation)
        values = strings(DeliveryNote.model_validate_json(generation.text).model_dump())
        assert any(values) and all(text.encode() in span_source(note) for text in values), generation.text


def test_bitmask_ids_are_the_set_bits_of_xgrammar_s_words_below_the_vocabulary_size() -> None:
    # Given ids set in a bitmask of 32-bit words, bit 31 (the sign bit) of the first word among them
    ids = [0, 5, 31, 32, 63, 70, 95]
    words = [0, 0, 0]
    for token in ids:
        words[token // 32] |= 1 << (token % 32)
    signed = torch.tensor([w - (1 << 32) if w >= 1 << 31 else w for w in words], dtype=torch.int32)
    # Then they are read back in order, and those past the vocabulary (a padded last word) are not
    assert bitmask_ids(signed, 96).tolist() == ids
    assert bitmask_ids(signed, 71).tolist() == ids[:-1]


def test_a_copying_row_allows_its_grammar_s_tokens_that_keep_every_value_a_span(model: ModelRunner) -> None:
    # Given a record the copy constraint wrote for a note, and a grammar row and a copying row walked along it
    task = TASK_TYPES["delivery_note"]
    assert isinstance(task, GenerativeTaskType)
    schema = task.output_schema()
    assert schema is not None
    note = NOTES[0]
    (generation,) = model.generate(
        [task.messages(DeliveryNoteRequest(text=note))], 640, model.json_constraint(schema, [note])
    )
    assert isinstance(generation, Generation)
    tokens = model.tokenizer.encode(generation.text, add_special_tokens=False)
    grammar = model.json_constraint(schema).rows([0])[0]
    copying = model.json_constraint(schema, copy_from=[note]).rows([0])[0]
    assert isinstance(copying, SpanRow)
    vocab = model.model.config.vocab_size
    values = 0
    for token in tokens:
        # Then at every step the grammar's ids are what its mask leaves finite
        scores = torch.zeros(vocab)
        grammar.mask(scores)
        assert grammar.allowed().tolist() == torch.isfinite(scores).nonzero().squeeze(1).tolist()
        # And the copying row allows a part of them, each keeping the value a span of the note; its mask agrees
        allowed = copying.allowed()
        assert set(allowed.tolist()) <= set(grammar.allowed().tolist())
        if copying.position.value is not None:
            values += 1
            after = [copying.position.after(copying.table.token_bytes[t], copying.source) for t in allowed.tolist()]
            assert all(position is not None for position in after)
        scores = torch.zeros(vocab)
        copying.mask(scores)
        assert torch.isfinite(scores).nonzero().squeeze(1).tolist() == allowed.tolist()
        assert token in allowed.tolist()
        probe = torch.tensor([token, *grammar.allowed().tolist()[:50]])  # and says so of a few tokens at once
        assert copying.allows(probe).tolist() == [t in allowed.tolist() for t in probe.tolist()]
        grammar.accept(token)
        copying.accept(token)
    assert values > 0 and copying.position.done
