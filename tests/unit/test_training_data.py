"""Fine-tuning refuses training data that holds a note the project evaluates with."""

import argparse
import json
from pathlib import Path

import pytest

from slmq.cli.finetune import _records, evaluation_files
from slmq.errors import ConfigError
from tests.conftest import REPO


def data_file(path: Path, records: list[dict[str, object]]) -> argparse.Namespace:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return argparse.Namespace(data=path)


def test_the_evaluation_files_are_every_labelled_file_of_the_checkout() -> None:
    names = {path.name for path in evaluation_files()}
    assert {
        "real-v1.jsonl",
        "disjoint-v1.jsonl",
        "heldout-v1.jsonl",
        "heldout-v2.jsonl",
        "heldout-v3.jsonl",
        "heldout-v4.jsonl",
    } <= names
    assert all(path.is_relative_to(REPO.parent) for path in evaluation_files())


def test_training_data_with_a_real_v1_note_is_refused_with_the_note_and_its_file(tmp_path: Path) -> None:
    # Given training data that slipped in one evaluation note, its whitespace changed
    note = json.loads((REPO / "data/delivery_note/real-v1.jsonl").read_text(encoding="utf-8").splitlines()[4])
    fresh = {"text": "Deliver 2 pallets to Acme Ltd, 1 Main St, Leeds.", "gold": note["gold"]}
    args = data_file(tmp_path / "train.jsonl", [fresh, {"text": note["text"].replace("\n", "  \n "), "gold": {}}])
    # When its records are read for training, then it is refused, naming the note and where it comes from
    with pytest.raises(ConfigError, match=f"holds note '{note['id']}' of the evaluation file .*real-v1.jsonl"):
        _records(args)


def test_training_data_of_fresh_notes_is_read(tmp_path: Path) -> None:
    gold = {"consignee": "Acme Ltd"}
    records, meta = _records(data_file(tmp_path / "train.jsonl", [{"text": "Deliver to Acme Ltd.", "gold": gold}]))
    assert records == [{"text": "Deliver to Acme Ltd.", "gold": gold}] and len(meta["sha256"]) == 64
