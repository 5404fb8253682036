"""The span tagger in this process: loaded as a worker loads it, evaluated on a labelled file, and its span
thresholds tuned on generated held-out notes (``python -m slmq.training.tagger eval|tune``; training is
``slmq.training.tagger``)."""

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import product
from pathlib import Path
from typing import Any

from transformers import PreTrainedTokenizerBase

from slmq.fleet import load_fleet
from slmq.settings import Settings
from slmq.training import notegen
from slmq.training.evaluation import format_report, load_labelled
from slmq.training.scoring import Report, auroc, score_record
from workers.model.runner import ModelRunner
from workers.model.sources import materialize
from workers.model.tagger import CONFIG, EXTEND, IN_SPAN, SpanTagger, Tagged, Thresholds, load_tagger, spans_of
from workers.model.tagging import SCALARS, record_from_spans

TUNED_IN_SPAN = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # the grid ``tune`` scores
TUNED_EXTEND = (0.05, 0.1, 0.15, 0.2, 0.3)


def specialist(served_dtype: bool = True) -> ModelRunner:
    """The delivery_note model of the fleet, as a worker loads it (or in fp32), without a tagger of its own."""
    settings = Settings()
    fleet = load_fleet(settings.fleet)
    spec = fleet.model_for("delivery_note")
    if not served_dtype and spec.dtype is not None:
        spec = spec.model_copy(update={"dtype": "float32"})
    adapter = fleet.resolve(spec.adapter) if spec.adapter else None
    return ModelRunner.load(spec, materialize(spec, fleet, settings.models_dir), "cpu", adapter)


def load(directory: Path) -> tuple[SpanTagger, PreTrainedTokenizerBase]:
    """The tagger in ``directory`` over the specialist, as a worker serving it loads it."""
    runner = specialist()
    return load_tagger(runner.model, directory), runner.tokenizer


def predict(
    tagger: SpanTagger, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], batch_size: int = 8
) -> Iterator[Tagged]:
    for start in range(0, len(texts), batch_size):
        yield from tagger.predict(tokenizer, texts[start : start + batch_size])


def tune(tagger: SpanTagger, tokenizer: PreTrainedTokenizerBase, count: int, seed: int) -> list[dict[str, Any]]:
    """Micro-F1, exact-record rate and field AUROC on ``count`` generated held-out notes for every IN_SPAN,
    EXTEND and JOINED (or none joined) of the grid, best first; one forward pass per note, then the decoding alone
    per row."""
    tagged = []
    for note in notegen.generate(count, seed, "heldout"):
        encoded = tagger.encode(tokenizer, note["text"])
        tagged.append((note, encoded, tagger.probabilities(encoded)))
    rows = []
    for in_span, extend, joined in product(TUNED_IN_SPAN, TUNED_EXTEND, (True, False)):
        if extend > in_span:
            continue
        scores, confidences = [], []
        thresholds = Thresholds(in_span, extend, joined)
        for note, encoded, probs in tagged:
            record, confidence = record_from_spans(note["text"], *spans_of(note["text"], encoded, probs, thresholds))
            scores.append(score_record(note["gold"], record))
            confidences.append(confidence)
        report = Report(scores)
        rows.append({**thresholds.as_dict(), "f1": report.micro.f1 or 0.0,
                     "exact": report.exact_rate or 0.0, "auroc": field_auroc(report, confidences)})  # fmt: skip
    return sorted(rows, key=lambda row: (row["f1"], row["exact"]), reverse=True)


def field_auroc(report: Report, confidences: Sequence[dict[str, Any]]) -> float | None:
    """``auroc`` of every note's scalar fields: their confidence against "this field is right"."""
    scored = [
        (float(confidence[kind]), not any(mistake.field == kind for mistake in record.mistakes))
        for record, confidence in zip(report.records, confidences, strict=True)
        for kind in SCALARS
    ]
    return auroc(scored)


def evaluate_file(
    directory: Path, labelled: Path, limit: int | None, in_span: float | None, output: Path | None
) -> int:
    """Tag ``labelled``'s notes in this process and print the report (``eval``); answers to ``output``."""
    records = load_labelled(labelled)[:limit]
    tagger, tokenizer = load(directory)
    if in_span is not None:
        tagger.thresholds = replace(tagger.thresholds, in_span=in_span)
    started = time.perf_counter()
    answers = list(predict(tagger, tokenizer, [r["text"] for r in records]))
    seconds = time.perf_counter() - started
    report = Report(
        [score_record(r["gold"], answer, str(r["id"])) for r, (answer, _) in zip(records, answers, strict=True)]
    )
    print(format_report(report, f"{labelled} ({directory}, {seconds:.1f} s, {len(records) / seconds:.2f} notes/s)"))
    print(f"field confidence AUROC for 'this field is right': {field_auroc(report, [c for _, c in answers])}")
    if output:
        with output.open("w", encoding="utf-8") as out:
            for record, (answer, confidence) in zip(records, answers, strict=True):
                out.write(
                    json.dumps(
                        {"id": record["id"], "result": answer, "confidence": confidence, "gold": record["gold"]},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
    return 0


def print_tuning(directory: Path, count: int, seed: int, save: bool) -> int:
    """``tune`` the tagger in ``directory`` and print the grid, best first; with ``save``, keep the best."""
    tagger, tokenizer = load(directory)
    rows = tune(tagger, tokenizer, count, seed)
    print(f"{count} generated held-out notes (seed {seed}), {directory}; best first:")
    print("in_span  extend  joined  micro-F1  exact  field AUROC")
    marks = {(IN_SPAN, EXTEND, True): "IN_SPAN, EXTEND, JOINED", (0.3, 0.3, False): "one threshold, none joined"}
    own = tagger.thresholds
    marks[(own.in_span, own.extend, own.joined)] = "this tagger's own"
    for rank, row in enumerate(rows):
        mark = marks.get((row["in_span"], row["extend"], row["joined"]))
        if rank < 10 or mark:
            auroc = "-" if row["auroc"] is None else f"{row['auroc']:.3f}"
            figures = f"{row['f1']:8.4f} {row['exact']:6.3f} {auroc:>6}"
            print(
                f"{row['in_span']:7.2f} {row['extend']:7.2f}  {row['joined']!s:6} {figures}"
                + (f"   <- {mark}" if mark else "")
            )
    if save:
        best = Thresholds(rows[0]["in_span"], rows[0]["extend"], rows[0]["joined"])
        save_thresholds(directory, best, f"{count} generated held-out notes, seed {seed}: micro-F1 {rows[0]['f1']:.4f}")
        print(f"{directory / CONFIG}: thresholds {best.as_dict()}")
    return 0


def save_thresholds(directory: Path, thresholds: Thresholds, chosen_on: str) -> None:
    """Write ``thresholds`` into the recipe of the tagger in ``directory``, which a worker then decodes with."""
    recipe = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
    recipe["thresholds"], recipe["thresholds_chosen_on"] = thresholds.as_dict(), chosen_on
    (directory / CONFIG).write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")
