"""slmq.training.evaluation without services: a stub fleet that answers with given records, `slmq synth`, and
`slmq eval --compare` (it reads files only: run as a process with an unreachable broker)."""

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from slmq.cli.main import main
from slmq.errors import InputFormatError, InvalidPayloadError, OutputValidationError, SlmqError
from slmq.schemas import DeliveryNote
from slmq.training.evaluation import (
    compare,
    evaluate,
    format_comparison,
    format_report,
    load_answers,
    load_labelled,
    prediction_line,
    write_answers,
)
from slmq.training.notegen import generate
from slmq.training.scoring import FIELDS, Errors, score, score_record

SLMQ = Path(sys.executable).with_name("slmq")
UNREACHABLE = "redis://127.0.0.1:1/0"


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
    """Six generated held-out notes whose gold has a consignee, an address and items (the tests change them)."""
    complete = (
        note
        for note in generate(60, seed=2, split="heldout")
        if note["gold"]["consignee"] and note["gold"]["address"] and note["gold"]["items"]
    )
    return [next(complete) for _ in range(6)]


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


def _answers_file(path: Path, notes: list[dict[str, Any]], answers: list[dict[str, Any] | None]) -> Path:
    """The answers file `slmq eval -o` would write for these answers (the stub fleet gives them)."""
    write_answers(path, evaluate(AnsweringFleet(answers), notes), notes)
    return path


def _labelled_file(path: Path, notes: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(note, ensure_ascii=False) + "\n" for note in notes), encoding="utf-8")
    return path


def _two_runs(notes: list[dict[str, Any]]) -> tuple[list[dict[str, Any] | None], list[dict[str, Any] | None]]:
    """Run A: notes 0 and 1 exact, a wrong city on 2, a typed error on 3. Run B: a wrong item quantity on 0."""
    a: list[dict[str, Any] | None] = [copy.deepcopy(note["gold"]) for note in notes[:4]]
    b: list[dict[str, Any] | None] = [copy.deepcopy(note["gold"]) for note in notes[:4]]
    a[2]["address"]["city"] = "Albany"  # type: ignore[index]
    a[3] = None
    b[0]["items"][0]["quantity"] += 1  # type: ignore[index]
    return a, b


def test_the_text_report_shows_errors_by_kind_beside_each_fields_ratios(notes: list[dict[str, Any]]) -> None:
    # Given a wrong city on one note, a missed consignee on another and an invented country on a third
    answers: list[dict[str, Any] | None] = [copy.deepcopy(note["gold"]) for note in notes]
    answers[0]["address"]["city"] = "Albany"  # type: ignore[index]
    answers[1]["consignee"] = None  # type: ignore[index]
    countryless = next(i for i, note in enumerate(notes) if i > 1 and note["gold"]["address"]["country"] is None)
    answers[countryless]["address"]["country"] = "Poland"  # type: ignore[index]
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


def test_two_answers_files_are_rescored_against_the_gold_and_shown_side_by_side(
    notes: list[dict[str, Any]], tmp_path: Path
) -> None:
    # Given the answers files two runs wrote for the same four notes
    labelled = _labelled_file(tmp_path / "notes.jsonl", notes[:4])
    a, b = _two_runs(notes)
    a_path, b_path = (
        _answers_file(tmp_path / "a.jsonl", notes[:4], a),
        _answers_file(tmp_path / "b.jsonl", notes[:4], b),
    )
    # When they are compared
    comparison = compare(load_labelled(labelled), labelled, a_path, b_path)
    # Then each run's report is the one its answers give, and the table shows both, their difference and the notes
    gold = [(n["id"], n["gold"]) for n in notes[:4]]
    for report, answers in ((comparison.a, a), (comparison.b, b)):
        assert report == score((note, record, answer) for (note, record), answer in zip(gold, answers, strict=True))
    assert comparison.a.per_field_errors["address.city"] == Errors(wrong=1, missing=1)
    assert comparison.b.per_field_errors["items"] == Errors(wrong=1)
    assert comparison.exact_only("a") == [notes[0]["id"]]
    assert comparison.exact_only("b") == [notes[2]["id"], notes[3]["id"]]
    table = format_comparison(comparison, "title", "a.jsonl", "b.jsonl")
    rows = {line.split()[0]: line.split() for line in table.splitlines()[5:]}
    assert rows["address.city"] == ["address.city", "0.571", "1", "1", "0", "1.000", "0", "0", "0", "+0.429"]
    assert rows["items"][5:9] == [_ratio(comparison.b.per_field["items"].f1), "1", "0", "0"]
    assert rows["exact-record"] == ["exact-record", "rate", "0.500", "0.750", "+0.250"]
    assert rows["schema-valid"] == ["schema-valid", "rate", "0.750", "1.000", "+0.250"]
    assert f"exact in A only (1): {notes[0]['id']}" in table
    assert f"exact in B only (2): {notes[2]['id']}, {notes[3]['id']}" in table
    data = comparison.as_dict()
    assert data["difference"]["fields"]["address.city"] == pytest.approx(1 - 4 / 7)
    assert data["exact_only_in_b"] == comparison.exact_only("b") and data["a"] == comparison.a.as_dict()


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def test_an_answers_file_must_answer_every_note_of_the_labelled_file_and_no_other(
    notes: list[dict[str, Any]], tmp_path: Path
) -> None:
    labelled_path = _labelled_file(tmp_path / "notes.jsonl", notes[:3])
    labelled = load_labelled(labelled_path)
    short = _answers_file(tmp_path / "short.jsonl", notes[:2], [n["gold"] for n in notes[:2]])
    other = _answers_file(tmp_path / "other.jsonl", notes[3:5], [n["gold"] for n in notes[3:5]])
    with pytest.raises(InputFormatError, match=f"{short} has no answer for note '{notes[2]['id']}' of "):
        compare(labelled, labelled_path, short, short)
    with pytest.raises(InputFormatError, match=f"{other} has an answer for note '{notes[3]['id']}', which"):
        compare(labelled, labelled_path, short, other, limit=2)
    assert compare(labelled, labelled_path, short, short, limit=2).a.exact_rate == 1.0
    broken = tmp_path / "broken.jsonl"
    broken.write_text(short.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"Line 3 of .*broken.jsonl is not JSON"):
        load_answers(broken)
    broken.write_text(short.read_text(encoding="utf-8") * 2, encoding="utf-8")
    with pytest.raises(InputFormatError, match=f"Line 3 of .* repeats note '{notes[0]['id']}'"):
        load_answers(broken)
    broken.write_text(json.dumps({"id": "a", "text": "2 pallets"}) + "\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match='has no "id" and "result"'):
        load_answers(broken)


def _slmq(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLMQ_BROKER_URL": UNREACHABLE}
    return subprocess.run([str(SLMQ), *args], env=env, capture_output=True, text=True, timeout=60)


def test_eval_compare_reads_two_answers_files_without_a_broker(notes: list[dict[str, Any]], tmp_path: Path) -> None:
    # Given a labelled file, two runs' answers files, and a broker URL nothing listens on
    labelled = str(_labelled_file(tmp_path / "notes.jsonl", notes[:4]))
    a, b = _two_runs(notes)
    a_path, b_path = (
        str(_answers_file(tmp_path / f"{name}.jsonl", notes[:4], run)) for name, run in (("a", a), ("b", b))
    )
    # When `slmq eval --compare` runs, as text and as JSON
    table = _slmq("eval", "delivery_note", labelled, "--compare", a_path, b_path)
    as_json = _slmq("eval", "delivery_note", labelled, "--compare", a_path, b_path, "--json")
    # Then both succeed from the files alone
    assert table.returncode == 0, table.stderr
    assert f"A = {a_path}" in table.stdout and f"exact in A only (1): {notes[0]['id']}" in table.stdout
    assert all(name in table.stdout for name in FIELDS)
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["a"]["answers"] == a_path and report["b"]["schema_valid_rate"] == 1.0
    assert report["exact_only_in_b"] == [notes[2]["id"], notes[3]["id"]]


def test_eval_compare_refuses_a_missing_or_mismatched_answers_file_in_one_line(
    notes: list[dict[str, Any]], tmp_path: Path
) -> None:
    labelled = str(_labelled_file(tmp_path / "notes.jsonl", notes[:3]))
    short = str(_answers_file(tmp_path / "short.jsonl", notes[:2], [n["gold"] for n in notes[:2]]))
    absent = str(tmp_path / "absent.jsonl")
    # A file that is not there is a bad command line (exit 2), as for every file argument
    missing = _slmq("eval", "delivery_note", labelled, "--compare", short, absent)
    assert missing.returncode == 2
    assert missing.stderr == f"slmq: InputFormatError: No input file at {absent}; check the path.\n"
    # A file without one of the labelled notes names the file and the note (exit 1)
    mismatched = _slmq("eval", "delivery_note", labelled, "--compare", short, short)
    assert mismatched.returncode == 1
    assert mismatched.stderr.count("\n") == 1
    assert f"{short} has no answer for note '{notes[2]['id']}' of {labelled}" in mismatched.stderr
    assert _slmq("eval", "delivery_note", labelled, "--compare", short, short, "--limit", "2").returncode == 0
    # Options that run the fleet are refused with --compare
    with_output = _slmq("eval", "delivery_note", labelled, "--compare", short, short, "-o", str(tmp_path / "x.jsonl"))
    assert with_output.returncode == 1
    assert "ConfigError: --compare reads two answers files and runs nothing; leave out -o," in with_output.stderr
    assert (
        "leave out --timeout and --no-spawn,"
        in _slmq("eval", "delivery_note", labelled, "--compare", short, short, "--timeout", "0", "--no-spawn").stderr
    )
    assert not (tmp_path / "x.jsonl").exists()
