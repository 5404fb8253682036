"""slmq.evaluation without services: a stub fleet that answers with given records, and `slmq synth`."""

import copy
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from slmq.cli import main
from slmq.errors import InvalidPayloadError, OutputValidationError, SlmqError
from slmq.evaluation import evaluate, format_report, load_labelled, prediction_line
from slmq.notegen import generate
from slmq.schemas import DeliveryNote
from slmq.scoring import FIELDS, score_record


class AnsweringFleet:
    """Stands in for the fleet (not under test here): answers note i with ``answers[i]``, an error where None."""

    def __init__(self, answers: list[dict[str, Any] | None]) -> None:
        self.answers = answers
        self.texts: list[str] = []

    def map(
        self, task_type: str, payloads: Iterable[Any], *, timeout: float | None = None, return_errors: bool = False
    ) -> Iterator[BaseModel | SlmqError]:
        assert task_type == "delivery_note" and return_errors
        for payload, answer in zip(payloads, self.answers, strict=True):
            self.texts.append(payload["text"])
            if answer is None:
                yield OutputValidationError("The model's output is not a valid delivery_note result.")
            else:
                yield DeliveryNote.model_validate(answer)


@pytest.fixture
def notes() -> list[dict[str, Any]]:
    return list(generate(6, seed=2, split="heldout"))


def test_evaluate_scores_valid_answers_and_typed_errors_and_sums_them(notes: list[dict[str, Any]]) -> None:
    # Given answers: two exact, one with a wrong consignee and no items, one typed error, two exact
    answers: list[dict[str, Any] | None] = [copy.deepcopy(note["gold"]) for note in notes]
    answers[2] = {**answers[2], "consignee": "Somebody Else Entirely", "items": []}  # type: ignore[dict-item]
    answers[3] = None
    fleet = AnsweringFleet(answers)
    # When the notes are evaluated
    result = evaluate(fleet, notes)
    # Then each text went to the fleet, each answer is scored on its own, and the report sums them
    assert fleet.texts == [note["text"] for note in notes]
    assert [p.id for p in result.predictions] == [note["id"] for note in notes]
    assert result.predictions[3].result is None and isinstance(result.predictions[3].error, OutputValidationError)
    for prediction, note, scored in zip(result.predictions, notes, result.report.records, strict=True):
        assert scored == score_record(note["gold"], prediction.result, note["id"])
    report = result.report
    assert report.valid_rate == pytest.approx(5 / 6)
    assert report.exact_rate == pytest.approx(4 / 6)
    wrong, missing = report.records[2].total, report.records[3].total
    assert wrong.fn == wrong.fp + len(notes[2]["gold"]["items"]) == 1 + len(notes[2]["gold"]["items"])
    assert missing.tp == missing.fp == 0 and missing.fn > 0
    assert report.micro.fp == 1 and report.micro.fn == wrong.fn + missing.fn
    line = prediction_line(result.predictions[3], notes[3]["gold"], report, 3)
    assert line["error"]["type"] == "OutputValidationError" and line["score"]["valid"] is False
    table = format_report(report, "title")
    assert all(name in table for name in FIELDS) and "schema-valid rate 0.833" in table


def test_a_labelled_file_needs_text_and_gold_on_every_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "2 pallets to Acme", "gold": {}}) + "\n{not json\n")
    with pytest.raises(InvalidPayloadError, match=r"Line 2 .* is not JSON"):
        load_labelled(path)
    path.write_text(json.dumps({"id": "a", "text": "2 pallets to Acme"}) + "\n")
    with pytest.raises(InvalidPayloadError, match='needs "text" and "gold"'):
        load_labelled(path)


def test_synth_writes_the_generators_notes_as_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # When `slmq synth` writes five held-out notes
    target = tmp_path / "synth.jsonl"
    assert main(["synth", "delivery_note", "--count", "5", "--seed", "3", "--split", "heldout", "-o", str(target)]) == 0
    # Then the file holds exactly what the generator yields, and a count below one is refused
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert lines == list(generate(5, seed=3, split="heldout"))
    assert main(["synth", "delivery_note", "--count", "0"]) == 1
    assert "--count must be at least 1" in capsys.readouterr().err


def test_the_text_report_shows_errors_by_kind_beside_each_fields_ratios(notes: list[dict[str, Any]]) -> None:
    # Given a wrong city on one note, a missed consignee on another and an invented country on a third
    answers: list[dict[str, Any] | None] = [copy.deepcopy(note["gold"]) for note in notes]
    answers[0]["address"]["city"] = "Albany"  # type: ignore[index]
    answers[1]["consignee"] = None  # type: ignore[index]
    assert notes[2]["gold"]["address"]["country"] is None
    answers[2]["address"]["country"] = "Poland"  # type: ignore[index]
    # When they are evaluated
    report = evaluate(AnsweringFleet(answers), notes).report
    # Then each kind is in its column of its field's row, and the micro row sums them
    lines = format_report(report, "title").splitlines()
    assert lines[1].split()[-3:] == ["wrong", "missing", "spurious"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows["address.city"][-3:] == ["1", "0", "0"] and rows["address.city"][1:4] == ["5", "1", "1"]
    assert rows["consignee"][-3:] == ["0", "1", "0"]
    assert rows["address.country"][-3:] == ["0", "0", "1"]
    assert rows["items"][-3:] == ["0", "0", "0"]
    assert rows["micro"][-3:] == ["1", "1", "1"]
    assert report.as_dict()["fields"]["consignee"]["missing"] == 1 and report.as_dict()["micro"]["spurious"] == 1


def test_an_answers_line_lists_each_mistake_with_its_gold_and_predicted_values(notes: list[dict[str, Any]]) -> None:
    # Given an answer with a wrong city and a wrong first item quantity, and a typed error
    answer = copy.deepcopy(notes[0]["gold"])
    answer["address"]["city"] = "Albany"
    answer["items"][0]["quantity"] += 1
    result = evaluate(AnsweringFleet([answer, None]), notes[:2])
    # When their answers lines are built
    wrong, failed = (prediction_line(result.predictions[i], notes[i]["gold"], result.report, i) for i in (0, 1))
    # Then each mistake is one entry: field, kind, gold and predicted value, and for an item what differs
    assert wrong["mistakes"] == [
        {"field": "address.city", "kind": "wrong", "gold": notes[0]["gold"]["address"]["city"], "predicted": "Albany"},
        {"field": "items", "kind": "wrong", "gold": notes[0]["gold"]["items"][0], "predicted": answer["items"][0],
         "differs": ["quantity"]},
    ]  # fmt: skip
    assert {m["kind"] for m in failed["mistakes"]} == {"missing"}
    assert len(failed["mistakes"]) == failed["score"]["fn"]
