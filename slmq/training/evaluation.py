"""Evaluation of the fleet's delivery_note answers against labelled notes, by the contract's scoring rules."""

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from slmq.batchfile import json_lines
from slmq.errors import InputFormatError, InvalidPayloadError, SlmqError
from slmq.schemas import confidence_of
from slmq.training.scoring import FIELDS, Counts, Errors, Report, score_record

TASK = "delivery_note"


class TaskMapper(Protocol):
    """What evaluation needs of a client: ``producer.FleetClient.map``."""

    def map(
        self, task_type: str, payloads: Iterable[Any], *, timeout: float | None = ..., return_errors: bool = ...
    ) -> Iterator[BaseModel | SlmqError]: ...


@dataclass(frozen=True)
class Prediction:
    """One note's answer: the record, or the typed error that came instead."""

    id: str
    result: dict[str, Any] | None
    error: SlmqError | None
    confidence: dict[str, Any] | None = None  # per field and item, where the model gives one


@dataclass
class Evaluation:
    """The report and the predictions it was computed from, in input order."""

    report: Report
    predictions: list[Prediction]


def load_labelled(path: Path) -> list[dict[str, Any]]:
    """The records of a labelled JSONL file (``{"id", "text", "gold"}`` lines); refuse a line without them."""
    records = []
    for number, record in json_lines(path, InvalidPayloadError, "fix or remove it"):
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or "gold" not in record:
            raise InvalidPayloadError(
                f'Line {number} of {path} needs "text" and "gold" fields to be evaluated; lines are '
                '{"id": ..., "text": ..., "gold": {...}} like the dev notes.'
            )
        record.setdefault("id", f"line-{number}")
        records.append(record)
    if not records:
        raise InvalidPayloadError(f"{path} has no records to evaluate; give a JSONL file of labelled notes.")
    return records


def evaluate(
    client: TaskMapper,
    records: Iterable[Mapping[str, Any]],
    *,
    timeout: float | None = None,
    on_prediction: Callable[[Prediction], None] | None = None,
) -> Evaluation:
    """Run every record's text through the fleet's delivery_note queue and score the answers against the gold."""
    labelled = list(records)
    outcomes = client.map(TASK, ({"text": r["text"]} for r in labelled), timeout=timeout, return_errors=True)
    predictions, scores = [], []
    for record, outcome in zip(labelled, outcomes, strict=True):
        if isinstance(outcome, SlmqError):
            prediction = Prediction(str(record["id"]), None, outcome)
        else:
            prediction = Prediction(str(record["id"]), outcome.model_dump(mode="json"), None, confidence_of(outcome))
        predictions.append(prediction)
        scores.append(score_record(record["gold"], prediction.result, prediction.id))
        if on_prediction:
            on_prediction(prediction)
    return Evaluation(Report(scores), predictions)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _kinds(errors: Errors) -> str:
    return f"{errors.wrong:>8}{errors.missing:>9}{errors.spurious:>10}"


def format_report(report: Report, title: str) -> str:
    """The report as a table: per-field counts, ratios and errors by kind, then the headline figures."""
    header = f"{'field':<18}{'tp':>6}{'fp':>6}{'fn':>6}{'precision':>11}{'recall':>8}{'f1':>8}"
    lines = [title, f"{header}{'wrong':>8}{'missing':>9}{'spurious':>10}"]
    errors = report.per_field_errors
    rows = [(name, counts, errors[name]) for name, counts in report.per_field.items() if name in FIELDS]
    for name, counts, kinds in [*rows, ("micro", report.micro, report.errors)]:
        lines.append(
            f"{name:<18}{counts.tp:>6}{counts.fp:>6}{counts.fn:>6}"
            f"{_ratio(counts.precision):>11}{_ratio(counts.recall):>8}{_ratio(counts.f1):>8}{_kinds(kinds)}"
        )
    count = len(report.records)
    lines.append(
        f"micro-F1 {_ratio(report.micro.f1)}   exact-record rate {_ratio(report.exact_rate)}   "
        f"schema-valid rate {_ratio(report.valid_rate)}   ({count} note{'' if count == 1 else 's'})"
    )
    lines.append("errors: wrong = both given, no match (items: paired, quantity, unit or description wrong); "
                 "missing = gold only; spurious = answer only")  # fmt: skip
    return "\n".join(lines)


def prediction_line(prediction: Prediction, gold: Mapping[str, Any], report: Report, index: int) -> dict[str, Any]:
    """One output line: the answer or its error, the gold record, the record's counts and its mistakes."""
    score = report.records[index]
    total = score.total
    error = None
    if prediction.error is not None:
        error = {"type": type(prediction.error).__name__, "message": prediction.error.message}
    return {
        "id": prediction.id,
        "result": prediction.result,
        "confidence": prediction.confidence,
        "error": error,
        "gold": gold,
        "score": {"tp": total.tp, "fp": total.fp, "fn": total.fn, "exact": score.exact, "valid": score.valid},
        "mistakes": [mistake.as_dict() for mistake in score.mistakes],
    }


def write_answers(path: Path, evaluation: Evaluation, records: Iterable[Mapping[str, Any]]) -> None:
    """Write ``slmq eval -o``'s answers file: one ``prediction_line`` per note, in input order."""
    with path.open("w", encoding="utf-8") as out:
        for index, (prediction, record) in enumerate(zip(evaluation.predictions, records, strict=True)):
            line = prediction_line(prediction, record["gold"], evaluation.report, index)
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


# Comparing two runs: answers files written by `slmq eval -o`, rescored against one labelled file's gold.


def load_answers(path: Path) -> dict[str, dict[str, Any] | None]:
    """Each note's answer in an answers file written by ``slmq eval -o``: the record, or None for a typed error."""
    remedy = "give an answers file written by slmq eval -o"
    answers: dict[str, dict[str, Any] | None] = {}
    for number, answer in json_lines(path, InputFormatError, remedy):
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str) or "result" not in answer:
            raise InputFormatError(f'Line {number} of {path} has no "id" and "result"; {remedy}.')
        if answer["id"] in answers:
            raise InputFormatError(f"Line {number} of {path} repeats note {answer['id']!r}; {remedy}.")
        result = answer["result"]
        answers[answer["id"]] = result if isinstance(result, dict) else None
    return answers


def score_answers(
    records: Sequence[Mapping[str, Any]],
    answers: Mapping[str, dict[str, Any] | None],
    path: Path,
    labelled: Path,
    limit: int | None = None,
) -> Report:
    """The report of answers file ``path`` on the first ``limit`` of ``records``, the notes of ``labelled``."""
    ids = [str(record["id"]) for record in records]
    known = set(ids)
    for note in answers:
        if note not in known:
            raise InputFormatError(
                f"{path} has an answer for note {note!r}, which {labelled} does not have; compare answers "
                f"written by slmq eval -o on the same labelled file."
            )
    for note in ids[:limit]:
        if note not in answers:
            raise InputFormatError(
                f"{path} has no answer for note {note!r} of {labelled}; compare answers written by "
                f"slmq eval -o on the same labelled file (with the same --limit)."
            )
    selected = zip(records[:limit], ids[:limit], strict=True)
    return Report([score_record(record["gold"], answers[note], note) for record, note in selected])


@dataclass
class Comparison:
    """Two runs on the same labelled notes: each one's report, and the notes exact in one run only."""

    a: Report
    b: Report

    def exact_only(self, which: str) -> list[str]:
        """Ids of the notes exact in run ``which`` (``a`` or ``b``) and not in the other, in input order."""
        first, second = (self.a, self.b) if which == "a" else (self.b, self.a)
        pairs = zip(first.records, second.records, strict=True)
        return [one.id for one, other in pairs if one.exact and not other.exact]

    def as_dict(self) -> dict[str, Any]:
        """Both reports, the differences B - A of the F1s and rates, and the notes exact in one run only."""
        a_fields, b_fields = self.a.per_field, self.b.per_field
        return {
            "a": self.a.as_dict(),
            "b": self.b.as_dict(),
            "difference": {
                "micro_f1": _minus(self.b.micro.f1, self.a.micro.f1),
                "exact_record_rate": _minus(self.b.exact_rate, self.a.exact_rate),
                "schema_valid_rate": _minus(self.b.valid_rate, self.a.valid_rate),
                "fields": {name: _minus(b_fields[name].f1, a_fields[name].f1) for name in FIELDS},
            },
            "exact_only_in_a": self.exact_only("a"),
            "exact_only_in_b": self.exact_only("b"),
        }


def compare(
    records: Sequence[Mapping[str, Any]], labelled: Path, a: Path, b: Path, limit: int | None = None
) -> Comparison:
    """Score answers files ``a`` and ``b`` (``slmq eval -o``) against the gold of ``labelled``'s ``records``."""
    return Comparison(*(score_answers(records, load_answers(path), path, labelled, limit) for path in (a, b)))


def _minus(b: float | None, a: float | None) -> float | None:
    return None if a is None or b is None else b - a


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def _run(counts: Counts | float | None, errors: Errors | None) -> str:
    """One run's columns of the comparison: F1 (or a rate) and its errors by kind."""
    value = counts.f1 if isinstance(counts, Counts) else counts
    kinds = "" if errors is None else f"{errors.wrong:>6}{errors.missing:>6}{errors.spurious:>6}"
    return f"{_ratio(value):>8}{kinds:>18}"


def format_comparison(comparison: Comparison, title: str, a_name: str, b_name: str) -> str:
    """Both runs side by side: per field each one's F1 and errors by kind, and B - A; then the headline figures."""
    a, b = comparison.a, comparison.b
    run = f"{'f1':>8}{'wrong':>6}{'miss':>6}{'spur':>6}"
    lines = [title, f"A = {a_name}", f"B = {b_name}", f"{'':<18}{'A':>8}{'':18}{'B':>8}",
             f"{'field':<18}{run}{run}{'B-A f1':>9}"]  # fmt: skip
    a_errors, b_errors, a_fields, b_fields = a.per_field_errors, b.per_field_errors, a.per_field, b.per_field
    rows = [(name, a_fields[name], a_errors[name], b_fields[name], b_errors[name]) for name in FIELDS]
    for name, a_counts, a_kinds, b_counts, b_kinds in [*rows, ("micro", a.micro, a.errors, b.micro, b.errors)]:
        difference = _signed(_minus(b_counts.f1, a_counts.f1))
        lines.append(f"{name:<18}{_run(a_counts, a_kinds)}{_run(b_counts, b_kinds)}{difference:>9}")
    for name, a_value, b_value in (
        ("micro-F1", a.micro.f1, b.micro.f1),
        ("exact-record rate", a.exact_rate, b.exact_rate),
        ("schema-valid rate", a.valid_rate, b.valid_rate),
    ):
        lines.append(f"{name:<18}{_run(a_value, None)}{_run(b_value, None)}{_signed(_minus(b_value, a_value)):>9}")
    count = len(a.records)
    lines.append(f"({count} note{'' if count == 1 else 's'}; wrong, miss, spur: errors by kind as in slmq eval)")
    for which in ("a", "b"):
        only = comparison.exact_only(which)
        lines.append(f"exact in {which.upper()} only ({len(only)}): {', '.join(only) or '-'}")
    return "\n".join(lines)
