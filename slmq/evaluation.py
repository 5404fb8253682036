"""Evaluation of the fleet's delivery_note answers against labelled notes, by the contract's scoring rules."""

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from slmq.errors import InvalidPayloadError, SlmqError
from slmq.scoring import FIELDS, Errors, Report, score_record

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


@dataclass
class Evaluation:
    """The report and the predictions it was computed from, in input order."""

    report: Report
    predictions: list[Prediction]


def load_labelled(path: Path) -> list[dict[str, Any]]:
    """The records of a labelled JSONL file (``{"id", "text", "gold"}`` lines); refuse a line without them."""
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidPayloadError(
                    f"Line {number} of {path} is not JSON ({exc.msg}); fix or remove it."
                ) from None
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
            prediction = Prediction(str(record["id"]), outcome.model_dump(mode="json"), None)
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
