"""Does per-field confidence tell right fields from wrong ones? Measured on labelled notes the model never saw.

The generation specialist as examples/fleet-generation.toml serves it parses each file's notes in-process
(``DeliveryNoteTask.run``, its grammar, copy spans, budget and re-asks), and every record's confidence is compared
with the contract's scoring of it. Two definitions side by side, from the same tokens: each value's probability
under the row's constraint (what the worker serves) and under the model alone (unmasked). Per file and definition:

- AUROC of a scalar field's confidence for "this field is right" (no mistake of any kind on it): 0.5 is no
  better than chance, 1.0 sorts every right field above every wrong one;
- for review thresholds X (``slmq parse --review-below X``): the share of records sent to review (any field
  or item below X), and micro-F1 and exact-record rate of the records kept and of those sent.

    python bench/confidence.py [--notes 48] [--data FILE ...]

Writes bench/confidence.json.
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.engine import cpu_flags  # noqa: E402
from bench.soak import machine  # noqa: E402
from slmq.fleet import load_fleet  # noqa: E402
from slmq.schemas import DeliveryNote, DeliveryNoteConfidence, DeliveryNoteRequest  # noqa: E402
from slmq.settings import Settings  # noqa: E402
from slmq.training.evaluation import load_labelled  # noqa: E402
from slmq.training.scoring import RecordScore, auroc, score, score_record  # noqa: E402

DATA = tuple(f"data/delivery_note/{name}.jsonl" for name in ("heldout-v2", "disjoint-v1", "real-v1"))
# The served one first: the product of the tokens' probabilities under the constraint; then the least probable
# token instead of the product, and both from the model's unmasked probabilities.
VARIANTS = ("product", "min", "product-unmasked", "min-unmasked")
THRESHOLDS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
SCALARS = tuple(f.alias or n for n, f in DeliveryNoteConfidence.model_fields.items() if n != "items")


def field_right(record: RecordScore, name: str) -> bool:
    return not any(mistake.field == name for mistake in record.mistakes)


def review_table(
    rows: list[tuple[dict[str, Any], dict[str, Any] | None, DeliveryNoteConfidence | None]],
) -> list[dict[str, Any]]:
    table = []
    for threshold in THRESHOLDS:
        sent = [r for r in rows if r[2] is None or r[2].lowest() < threshold]
        kept = [r for r in rows if r[2] is not None and r[2].lowest() >= threshold]
        line: dict[str, Any] = {"below": threshold, "sent_share": round(len(sent) / len(rows), 3)}
        for name, part in (("kept", kept), ("sent", sent)):
            report = score((g["id"], g["gold"], p) for g, p, _ in part) if part else None
            line[f"{name}_micro_f1"] = round(report.micro.f1, 4) if report and report.micro.f1 is not None else None
            line[f"{name}_exact"] = round(report.exact_rate, 3) if report else None
        table.append(line)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=48, help="notes of each file (default: 48)")
    parser.add_argument("--model", default="smollm2-notes")
    parser.add_argument("--data", type=Path, nargs="+", default=[REPO / path for path in DATA])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=REPO / "bench/confidence.json")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from workers.model.runner import Generation, ModelRunner
    from workers.model.sources import materialize
    from workers.model.tasktypes import Answered
    from workers.model.tasktypes.delivery_note import DeliveryNoteTask, field_confidence

    generations: dict[int, Generation] = {}

    class Noting(DeliveryNoteTask):
        """The served task, also keeping each record's generation (for the other definitions)."""

        def annotate(self, result: Any, generation: Generation) -> Any:
            generations[id(result)] = generation
            return super().annotate(result, generation)

    def variant(result: DeliveryNote, generation: Generation, name: str) -> DeliveryNoteConfidence | None:
        logprobs = generation.raw_logprobs if name.endswith("unmasked") else generation.logprobs
        combine = min if name.startswith("min") else sum
        return field_confidence(result, dataclasses.replace(generation, logprobs=logprobs), combine)

    fleet = load_fleet(REPO / "examples/fleet-generation.toml")
    spec = fleet.model(args.model)
    task_spec = fleet.tasks["delivery_note"]
    model_dir = materialize(spec, fleet, Settings().models_dir)
    # The unmasked probabilities need every token's logit: generate() computes them, while the native engine
    # applies the output layer on a CPU only to the tokens a constraint allows. The same weights either way.
    spec = spec.model_copy(update={"engine": "transformers"})
    runner = ModelRunner.load(spec, model_dir, "cpu", fleet.resolve(spec.adapter) if spec.adapter else None)
    budget = task_spec.max_new_tokens or spec.max_new_tokens
    options = {"constrained": task_spec.constrained, "reasks": task_spec.reasks, "copy_spans": task_spec.copy_spans}
    task = Noting()
    results: dict[str, Any] = {
        "machine": machine(),
        "cpu_flags": cpu_flags(),
        "torch": torch.__version__,
        "model": f"{spec.name} ({spec.source}, {spec.quantization}, adapter {spec.adapter}, engine {spec.engine})",
        "files": {},
    }
    for path in args.data:
        records = load_labelled(path)[: args.notes]
        rows: dict[str, list[Any]] = {name: [] for name in VARIANTS}
        for start in range(0, len(records), spec.max_batch):
            batch = records[start : start + spec.max_batch]
            outcomes = task.run(runner, [DeliveryNoteRequest(text=r["text"]) for r in batch], budget, **options)
            for record, outcome in zip(batch, outcomes, strict=True):
                note = outcome.result if isinstance(outcome, Answered) else None
                predicted = note.model_dump(mode="json") if note is not None else None
                generation = generations.pop(id(note), None) if note is not None else None
                for name in VARIANTS:
                    confidence = variant(note, generation, name) if note is not None and generation else None
                    rows[name].append((record, predicted, confidence))
            print(f"{path.name}: {start + len(batch)} notes", file=sys.stderr)
        summary: dict[str, Any] = {"notes": len(records)}
        for name, part in rows.items():
            scored = []
            for record, predicted, confidence in part:
                if confidence is None:
                    continue
                judged = score_record(record["gold"], predicted, record["id"])
                values = confidence.model_dump(mode="json")
                scored += [(field, values[field], field_right(judged, field)) for field in SCALARS]
            per_field = {field: auroc([(c, ok) for f, c, ok in scored if f == field]) for field in SCALARS}
            pooled = auroc([(c, ok) for _, c, ok in scored])
            summary[name] = {"field_auroc": pooled, "per_field_auroc": per_field, "review": review_table(part)}
        results["files"][path.name] = summary
        print(json.dumps({path.name: summary}, indent=2), file=sys.stderr)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
