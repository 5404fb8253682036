"""data/delivery_note/real-v1.jsonl: hand-written, hand-labelled notes for evaluation only, checked by the contract.

Each line is ``{"id", "text", "gold", "tags"}``; ``tags`` name the note's style and the country of its delivery
address (``country:XX``), which the gold record itself only gives where the note writes the country.
"""

import json
from collections import Counter
from typing import Any

import jsonschema
import pytest

from slmq.schemas import MAX_NOTE_CHARS, DeliveryNote
from slmq.training.evaluation import load_labelled
from slmq.training.notegen import unspanned
from slmq.training.notegen.note import text_values
from slmq.training.scoring import score
from tests.conftest import REPO, SHARED

REAL_NOTES = REPO / "data" / "delivery_note" / "real-v1.jsonl"
SCHEMA = json.loads((SHARED / "contracts" / "delivery_note.schema.json").read_text(encoding="utf-8"))
STYLES = ("email_fwd", "chat", "pdf_form", "ocr", "mixed_language")


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    lines = REAL_NOTES.read_text(encoding="utf-8").splitlines()
    assert all(line.strip() for line in lines), "no blank lines"
    return [json.loads(line) for line in lines]


def test_every_line_is_a_labelled_note_that_slmq_eval_accepts(records: list[dict[str, Any]]) -> None:
    assert len(records) >= 48
    for record in records:
        assert set(record) == {"id", "text", "gold", "tags"}, record.get("id")
        assert isinstance(record["text"], str) and 1 <= len(record["text"]) <= MAX_NOTE_CHARS, record["id"]
        assert isinstance(record["tags"], list) and all(isinstance(tag, str) for tag in record["tags"])
    assert [r["id"] for r in load_labelled(REAL_NOTES)] == [r["id"] for r in records]


def test_ids_are_unique_and_numbered_in_order(records: list[dict[str, Any]]) -> None:
    ids = [record["id"] for record in records]
    assert len(set(ids)) == len(ids)
    assert ids == [f"real-v1-{number:03d}" for number in range(1, len(ids) + 1)]


def test_every_gold_record_is_valid_against_the_contract_schema(records: list[dict[str, Any]]) -> None:
    for record in records:
        jsonschema.validate(record["gold"], SCHEMA)
        assert DeliveryNote.model_validate(record["gold"]).model_dump(mode="json") == record["gold"], record["id"]
        for item in record["gold"]["items"]:
            assert not isinstance(item["quantity"], bool) and item["quantity"] > 0, record["id"]


def test_every_gold_text_value_is_a_verbatim_span_of_its_note(records: list[dict[str, Any]]) -> None:
    # The contract: values are copied as written, whitespace collapsed (the generator's own check, reused)
    for record in records:
        assert unspanned(record["gold"], record["text"]) == [], record["id"]
        for value in text_values(record["gold"]):
            # Non-empty and without a quote or backslash: the served JSON grammar cannot write those
            assert value.strip() == value and value, (record["id"], value)
            assert '"' not in value and "\\" not in value, (record["id"], value)


def test_the_gold_records_score_perfectly_against_themselves(records: list[dict[str, Any]]) -> None:
    report = score((r["id"], r["gold"], r["gold"]) for r in records)
    assert report.micro.f1 == 1.0
    assert report.exact_rate == 1.0 and report.valid_rate == 1.0


def test_the_notes_cover_twenty_countries_and_every_style(records: list[dict[str, Any]]) -> None:
    countries = []
    styles: Counter[str] = Counter()
    for record in records:
        tagged = [tag.removeprefix("country:") for tag in record["tags"] if tag.startswith("country:")]
        assert len(tagged) == 1, record["id"]
        countries += tagged
        assert record["tags"][0] in STYLES, record["id"]
        styles[record["tags"][0]] += 1
    assert len(set(countries)) >= 20
    assert all(styles[style] >= 5 for style in STYLES), styles


def test_the_set_varies_what_a_note_states(records: list[dict[str, Any]]) -> None:
    golds = [record["gold"] for record in records]
    for field in ("delivery_date", "contact_name", "contact_phone", "reference", "instructions"):
        absent = sum(gold[field] is None for gold in golds)
        assert 0 < absent < len(golds), field
    assert any(not gold["items"] for gold in golds)
    assert any(gold["address"]["country"] for gold in golds)
    assert any(gold["address"]["country"] is None for gold in golds)
    assert any("distractor" in record["tags"] for record in records)
