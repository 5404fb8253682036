"""The template-disjoint split: deterministic, contract-valid, and sharing no layout or phrasing with training."""

import json
import re
from collections.abc import Iterable
from pathlib import Path

import jsonschema
import pytest

from slmq.schemas import DeliveryNote
from slmq.training.notegen import generate, layouts, phrases, unspanned
from slmq.training.notegen.disjoint import LAYOUTS, wording
from slmq.training.notegen.disjoint import generate as generate_disjoint
from slmq.training.notegen.note import text_values
from tests.conftest import SHARED

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((SHARED / "contracts" / "delivery_note.schema.json").read_text(encoding="utf-8"))
NAMES = "|".join(
    (*phrases.WEEKDAYS, *phrases.MONTHS, *wording.DAYS, *wording.MONTHS, *phrases.WD_SHORT, *phrases.MON_SHORT)
)


@pytest.fixture(scope="module")
def disjoint() -> list[dict]:
    return list(generate(400, seed=11, split="disjoint"))


@pytest.fixture(scope="module")
def family() -> list[dict]:
    """Notes of the generator's own family of layouts: its train and held-out splits."""
    return list(generate(500, seed=11, split="train")) + list(generate(250, seed=11, split="heldout"))


def _labels(records: Iterable[dict]) -> set[str]:
    """The "Label:" words that start the lines of the notes, digits as 9."""
    found = set()
    for record in records:
        for line in record["text"].splitlines():
            match = re.match(r"\s*([^:\n]{1,30}):", line)
            if match and re.search(r"[^\W\d_]", match.group(1)):  # a label has a letter ("27.11.2025 9:11" is a time)
                found.add(re.sub(r"\d+", "9", " ".join(match.group(1).lower().split())))
    return found


def _shape(value: str | None, record: dict) -> str | None:
    """A date or instruction with its numbers, day and month names and the contact's name and phone abstracted."""
    if value is None:
        return None
    for key in ("contact_phone", "contact_name"):
        if record["gold"][key]:
            value = value.replace(record["gold"][key], f"<{key}>")
    value = re.sub(rf"\b({NAMES})\b", "<name>", value, flags=re.IGNORECASE)
    return re.sub(r"\d+", "9", value.lower())


def _literals(patterns: Iterable[str], shortest: int) -> set[str]:
    """The fixed words of each pattern (its longest run between placeholders), where long enough to be telling."""
    found = set()
    for pattern in patterns:
        run = max(re.split(r"\{[^}]*\}", pattern), key=len).strip(" ,.:;-")
        if len(run) >= shortest:
            found.add(run.lower())
    return found


def test_the_same_seed_gives_the_same_disjoint_notes_and_a_longer_run_extends_a_shorter_one() -> None:
    # Given two runs with the same seed, one longer, through the package and through the split's own module
    first = list(generate(30, seed=5, split="disjoint"))
    second = list(generate_disjoint(40, seed=5))
    # Then the shorter is a prefix of the longer, and another seed gives other notes
    assert second[:30] == first
    assert [r["text"] for r in generate_disjoint(30, seed=6)] != [r["text"] for r in first]
    assert all(r["id"].startswith("disjoint-5-") for r in first)


def test_every_disjoint_gold_record_is_valid_and_its_values_are_verbatim_spans(disjoint: list[dict]) -> None:
    for record in disjoint:
        jsonschema.validate(record["gold"], SCHEMA)
        DeliveryNote.model_validate(record["gold"])
        assert set(record) == {"id", "text", "gold", "tags"}
        assert 1 <= len(record["text"]) <= 4000
        assert unspanned(record["gold"], record["text"]) == []
        flat = " ".join(record["text"].split())
        assert all(value in flat for value in text_values(record["gold"])), record["id"]
        for item in record["gold"]["items"]:
            assert isinstance(item["quantity"], int | float) and item["quantity"] > 0
            assert item["unit"] is None or item["unit"].lower() != "x"


def test_the_disjoint_split_covers_each_of_its_layouts_and_leaves_fields_out(disjoint: list[dict]) -> None:
    names = {name for name, _ in LAYOUTS}
    assert {record["tags"][0] for record in disjoint[: len(LAYOUTS)]} == names
    assert {record["tags"][0] for record in disjoint} == names
    assert len({tag for record in disjoint for tag in record["tags"] if tag.startswith("country:")}) >= 12
    golds = [record["gold"] for record in disjoint]
    for key in ("consignee", "delivery_date", "contact_name", "contact_phone", "reference", "instructions"):
        assert any(gold[key] is None for gold in golds), key
        assert sum(gold[key] is not None for gold in golds) > len(golds) / 2, key
    assert any(item["unit"] is None for gold in golds for item in gold["items"])


def test_no_line_label_is_shared_between_the_disjoint_family_and_the_train_and_held_out_splits(
    disjoint: list[dict], family: list[dict]
) -> None:
    # Given the "Label:" words that start lines in each family (a shared template would share its labels)
    ours, theirs = _labels(disjoint), _labels(family)
    # Then both have labels, and none is in both
    assert len(ours) >= 15 and len(theirs) >= 40
    assert ours & theirs == set()


def test_no_date_or_instruction_shape_is_shared_between_the_families(disjoint: list[dict], family: list[dict]) -> None:
    # Given each gold delivery date and instruction with its numbers, names and contact abstracted
    def shapes(records: list[dict], key: str) -> set[str]:
        return {shape for record in records if (shape := _shape(record["gold"][key], record))}

    for key in ("delivery_date", "instructions"):
        ours, theirs = shapes(disjoint, key), shapes(family, key)
        # Then the families write them in different ways
        assert len(ours) >= 20 and len(theirs) >= 20, key
        assert ours & theirs == set(), key


def test_no_distinctive_phrase_of_one_family_appears_in_the_other(disjoint: list[dict], family: list[dict]) -> None:
    # Given the fixed words of each family's phrase tables
    ours = _literals(
        (*wording.WRITTEN_DATES, *wording.SPOKEN_DATES, *wording.INSTRUCTIONS, *wording.CONTACT_INSTRUCTIONS), 10
    )
    theirs = _literals(
        (
            *phrases.DATE_PATTERNS_EN, *phrases.INSTRUCTIONS_EN, *phrases.FILLER_EN, *phrases.FORM_FOOTERS,
            *phrases.QUOTED_REPLIES, *layouts.GREETINGS, *layouts.SIGNOFFS, *layouts.SUBJECTS,
            *layouts.OPENINGS_CUSTOMER, *layouts.OPENINGS_DISPATCH, *layouts.INLINE_OPENINGS, *layouts.TITLES,
            *layouts.NO_ITEM_OPENINGS,
        ),
        10,
    )  # fmt: skip
    disjoint_text = "\n".join(record["text"].lower() for record in disjoint)
    family_text = "\n".join(record["text"].lower() for record in family)
    # Then none is written by the other family (and each family does write its own)
    assert [phrase for phrase in theirs if phrase in disjoint_text] == []
    assert [phrase for phrase in ours if phrase in family_text] == []
    assert sum(phrase in disjoint_text for phrase in ours) > len(ours) / 2


def test_the_committed_disjoint_set_is_what_its_documented_command_generates() -> None:
    # Given data/delivery_note/disjoint-v1.jsonl, made by `slmq synth ... --count 200 --seed 0 --split disjoint`
    committed = (REPO / "data" / "delivery_note" / "disjoint-v1.jsonl").read_text(encoding="utf-8").splitlines()
    # Then the generator still makes exactly those notes (regenerate the file when the disjoint family changes)
    assert [json.loads(line) for line in committed] == list(generate(200, seed=0, split="disjoint"))
