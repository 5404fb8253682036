"""The span tagger's notes per forward pass, side by side in one process: padded batches against notes alone.

The served tagger (fleet.toml's specialist with its ``tagger``, loaded as the worker loads it) tags the same
notes in groups of 16 as they arrive in a batch, of 4 after sorting each batch by length, and one at a time
(``SpanTagger.tag(per_forward=...)``), the modes alternating round by round. Prints seconds and notes/s of each,
and whether each mode wrote the same records as batches of 16.

    python bench/tagger_forward.py [--notes 48] [--data data/delivery_note/real-v1.jsonl] [--rounds 1]

Writes bench/tagger_forward.json.
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.engine import cpu_flags  # noqa: E402
from bench.soak import machine  # noqa: E402
from slmq.fleet import load_fleet  # noqa: E402
from slmq.settings import Settings  # noqa: E402
from slmq.training.evaluation import load_labelled  # noqa: E402

BATCH = 16  # the fleet's max_batch: how many notes a worker's batch holds at most
MODES = {"padded_16": BATCH, "sorted_4": 4, "alone": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=48)
    parser.add_argument("--data", type=Path, default=REPO / "data/delivery_note/real-v1.jsonl")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=REPO / "bench/tagger_forward.json")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from workers.model.runner import ModelRunner
    from workers.model.sources import materialize

    fleet = load_fleet(REPO / "fleet.toml")
    spec = fleet.model_for("delivery_note")
    if spec.tagger is None:
        raise SystemExit("bench/tagger_forward.py: fleet.toml's delivery_note model has no tagger")
    adapter = fleet.resolve(spec.adapter) if spec.adapter else None
    model_dir = materialize(spec, fleet, Settings().models_dir)
    runner = ModelRunner.load(spec, model_dir, "cpu", adapter, tagger_dir=fleet.resolve(spec.tagger))
    tagger = runner.tagger
    assert tagger is not None
    texts = [record["text"] for record in load_labelled(args.data)[: args.notes]]
    encoded = [tagger.encode(runner.tokenizer, text) for text in texts]
    pad_id = runner.tokenizer.pad_token_id or 0
    seconds = {mode: 0.0 for mode in MODES}
    records: dict[str, list[Any]] = {}
    for _ in range(args.rounds):
        for mode, size in MODES.items():
            written: list[Any] = [None] * len(texts)
            began = time.perf_counter()
            for start in range(0, len(texts), BATCH):  # each batch as a worker gets it
                rows = list(range(start, min(start + BATCH, len(texts))))
                if size < BATCH:
                    rows.sort(key=lambda row: len(encoded[row].input_ids))
                tagged = tagger.tag([texts[r] for r in rows], [encoded[r] for r in rows], pad_id, per_forward=size)
                for row, (record, _) in zip(rows, tagged, strict=True):
                    written[row] = record
            seconds[mode] += time.perf_counter() - began
            records[mode] = written
            print(f"{mode}: {seconds[mode]:.1f} s so far", file=sys.stderr)
    tokens = [len(e.input_ids) for e in encoded]
    result = {
        "machine": machine(),
        "cpu_flags": cpu_flags(),
        "torch": torch.__version__,
        "threads": args.threads,
        "data": str(args.data.relative_to(REPO)) if args.data.is_relative_to(REPO) else str(args.data),
        "notes": len(texts),
        "tokens_per_note": {"min": min(tokens), "mean": round(sum(tokens) / len(tokens)), "max": max(tokens)},
        "rounds": args.rounds,
        "seconds": {mode: round(value, 1) for mode, value in seconds.items()},
        "notes_per_s": {mode: round(args.rounds * len(texts) / value, 3) for mode, value in seconds.items()},
        "speed_over_padded_16": {mode: round(seconds["padded_16"] / value, 2) for mode, value in seconds.items()},
        "records_same_as_padded_16": {
            mode: f"{sum(a == b for a, b in zip(written, records['padded_16'], strict=True))}/{len(texts)}"
            for mode, written in records.items()
        },
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
