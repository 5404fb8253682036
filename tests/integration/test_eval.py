"""slmq eval and slmq.training.evaluation through a real worker on the tiny random model: the report adds up."""

import json
from pathlib import Path
from typing import Any

import pytest

from producer import FleetClient
from slmq.training.evaluation import evaluate, load_labelled
from slmq.training.scoring import FIELDS, Counts, Errors, score_record
from tests.integration.conftest import TINY_FLEET, Deployment, StartWorker, make_deployment

HELDOUT = Path(__file__).resolve().parents[2] / "data" / "delivery_note" / "heldout-v1.jsonl"
# Constrained to the schema with room for its strings, even the tiny random model answers with valid records.
FLEET = TINY_FLEET.replace("max_new_tokens = 48\ncontext_limit = 512", "max_new_tokens = 640\ncontext_limit = 1024")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, module_redis_url: str, tiny_model_dir: Path) -> Deployment:
    assert FLEET != TINY_FLEET
    return make_deployment(tmp_path_factory.mktemp("eval"), module_redis_url, tiny_model_dir, fleet=FLEET)


def _notes(tmp_path: Path, count: int) -> Path:
    """``count - 1`` short held-out notes (they fit the tiny model's context) and one too long to submit."""
    every = HELDOUT.read_text(encoding="utf-8").splitlines(keepends=True)
    short = [line for line in every if len(json.loads(line)["text"]) < 230]
    lines = short[: count - 1]
    too_long = {**json.loads(short[0]), "id": "too-long", "text": "12 pallets of paper. " * 200}
    path = tmp_path / "notes.jsonl"
    path.write_text("".join(lines) + json.dumps(too_long) + "\n", encoding="utf-8")
    return path


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def test_eval_spawns_a_worker_and_its_json_report_is_the_sum_of_its_per_note_scores(
    deployment: Deployment, tmp_path: Path
) -> None:
    # Given three labelled notes (one too long to submit) and no worker running
    notes, answers = _notes(tmp_path, 3), tmp_path / "answers.jsonl"
    # When they are evaluated with --json and --output
    done = deployment.cli("eval", "delivery_note", str(notes), "--output", str(answers), "--json", timeout=600)
    # Then a local worker answered and the report is the sum of the per-note scores written beside it
    assert done.returncode == 0, done.stderr
    assert "starting a local worker" in done.stderr
    report = json.loads(done.stdout)
    lines = [json.loads(line) for line in answers.read_text(encoding="utf-8").splitlines()]
    gold = load_labelled(notes)
    assert [line["id"] for line in lines] == [record["id"] for record in gold]
    total, per_field = Counts(), {name: Counts() for name in FIELDS}
    errors = {name: Errors() for name in FIELDS}
    for line, record in zip(lines, gold, strict=True):
        assert (line["result"] is None) != (line["error"] is None)
        rescored = score_record(record["gold"], line["result"], line["id"])
        assert line["score"] == {"tp": rescored.total.tp, "fp": rescored.total.fp, "fn": rescored.total.fn,
                                 "exact": rescored.exact, "valid": rescored.valid}  # fmt: skip
        assert line["mistakes"] == [mistake.as_dict() for mistake in rescored.mistakes]
        assert rescored.valid == (line["error"] is None)
        total.add(rescored.total)
        for name, counts in rescored.fields.items():
            per_field[name].add(counts)
            errors[name].add(rescored.errors[name])
    assert report["records"] == 3 and report["model"] == "tiny-notes"
    # Short notes were answered with records that were scored; the long one was refused with a typed error
    assert any(line["score"]["valid"] for line in lines[:2])
    assert lines[-1]["error"]["type"] == "InvalidPayloadError" and not lines[-1]["score"]["valid"]
    assert (report["micro"]["tp"], report["micro"]["fp"], report["micro"]["fn"]) == (total.tp, total.fp, total.fn)
    assert report["micro_f1"] == total.f1
    assert report["micro"]["precision"] == _ratio(total.tp, total.tp + total.fp)
    assert report["schema_valid_rate"] == sum(line["score"]["valid"] for line in lines) / 3
    assert report["exact_record_rate"] == sum(line["score"]["exact"] for line in lines) / 3
    for name, counts in per_field.items():
        assert (report["fields"][name]["tp"], report["fields"][name]["fp"], report["fields"][name]["fn"]) == (
            counts.tp, counts.fp, counts.fn,
        )  # fmt: skip
        kinds = {kind: report["fields"][name][kind] for kind in ("wrong", "missing", "spurious")}
        assert kinds == errors[name].as_dict()
        assert (counts.fp, counts.fn) == (kinds["wrong"] + kinds["spurious"], kinds["wrong"] + kinds["missing"])


def test_the_text_report_names_every_field_and_the_headline_figures(deployment: Deployment, tmp_path: Path) -> None:
    # Given a note the router refuses before enqueueing (too long), so no worker is needed
    done = deployment.cli("eval", "delivery_note", str(_notes(tmp_path, 1)), "--no-spawn", timeout=300)
    # Then the table names every field and the headline figures, its one note a schema-invalid miss
    assert done.returncode == 0, done.stderr
    for name in (*FIELDS, "micro", "micro-F1 0.000", "exact-record rate 0.000", "schema-valid rate 0.000", "(1 note)"):
        assert name in done.stdout
    assert done.stdout.splitlines()[1].split()[-3:] == ["wrong", "missing", "spurious"]
    micro = next(line.split() for line in done.stdout.splitlines() if line.startswith("micro "))
    assert micro[1] == micro[2] == micro[-3] == micro[-1] == "0" and micro[3] == micro[-2]  # all missing


def test_evaluate_in_python_scores_each_answer_and_the_report_adds_them_up(
    deployment: Deployment, start_worker: StartWorker
) -> None:
    # Given a worker for the delivery_note model and three labelled notes
    start_worker("tiny-notes")
    records: list[dict[str, Any]] = [r for r in load_labelled(HELDOUT) if len(r["text"]) < 230][:2]
    seen: list[str] = []
    # When they are evaluated through the client
    result = evaluate(
        FleetClient(deployment.settings()), records, timeout=300, on_prediction=lambda p: seen.append(p.id)
    )
    # Then each answer is scored against its own gold, in order, and the report's totals are their sums
    assert seen == [record["id"] for record in records] == [p.id for p in result.predictions]
    micro = Counts()
    for prediction, record, scored in zip(result.predictions, records, result.report.records, strict=True):
        assert scored == score_record(record["gold"], prediction.result, prediction.id)
        assert (prediction.result is None) == (prediction.error is not None) == (not scored.valid)
        micro.add(scored.total)
    assert result.report.micro == micro
    assert result.report.valid_rate == sum(s.valid for s in result.report.records) / len(records)


def test_eval_refuses_a_file_without_gold_records(deployment: Deployment, tmp_path: Path) -> None:
    notes = tmp_path / "unlabelled.jsonl"
    notes.write_text(json.dumps({"id": "a", "text": "2 pallets to Acme"}) + "\n")
    done = deployment.cli("eval", "delivery_note", str(notes), "--no-spawn")
    assert done.returncode == 1
    assert "InvalidPayloadError" in done.stderr and '"gold"' in done.stderr
