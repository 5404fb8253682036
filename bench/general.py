"""The general model's task types on both engines, in one process, as fleet.toml serves them.

fleet.toml's general model (SmolLM2-135M-Instruct, its quantization and budgets) answers the same requests of each
generative task type through its ``TaskType.run`` with the transformers engine (``generate()``) and the native one,
batch by batch in turn (so both see the same machine noise): summaries and questions on held-out delivery notes,
refactoring suggestions on functions of this repository (real code, schema-constrained JSON). Prints, per task type,
the requests/s of each engine and their ratio, and how many answers are identical.

    python bench/general.py [--requests 32] [--output bench/general.json]
"""

import argparse
import ast
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
from slmq.schemas import GeneralRequest, RefactorRequest, SummarizeRequest  # noqa: E402
from slmq.settings import Settings  # noqa: E402
from slmq.training.evaluation import load_labelled  # noqa: E402

NOTES = REPO / "data/delivery_note/heldout-v2.jsonl"
CODE = sorted((REPO / "slmq").glob("*.py"))  # functions of 4-40 lines from these, as a refactoring request


def functions(count: int) -> list[str]:
    """The source of the first ``count`` functions of 4 to 40 lines in slmq's top-level modules."""
    found: list[str] = []
    for path in CODE:
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and node.end_lineno and 4 <= node.end_lineno - node.lineno <= 40:
                found.append(ast.get_source_segment(source, node) or "")
    return [code for code in found if code][:count]


def requests(count: int) -> dict[str, list[Any]]:
    notes = [record["text"] for record in load_labelled(NOTES)[:count]]
    return {
        "summarize": [SummarizeRequest(text=note) for note in notes],
        "general": [GeneralRequest(text=f"Who receives this delivery, and when?\n\n{note}") for note in notes],
        "refactor_python": [RefactorRequest(text=code) for code in functions(count)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=32, help="requests of each task type")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "general.json")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from workers.model.runner import ModelRunner
    from workers.model.sources import materialize
    from workers.model.tasktypes import TASK_TYPES, Answered

    fleet = load_fleet(REPO / "fleet.toml")
    spec = fleet.model(fleet.tasks["general"].model)
    model_dir = materialize(spec, fleet, Settings().models_dir)
    reference = ModelRunner.load(spec.model_copy(update={"engine": "transformers"}), model_dir, "cpu")
    native_spec = spec.model_copy(update={"engine": "native"})
    native = ModelRunner(native_spec, reference.model, reference.tokenizer, "cpu")
    reference.warm_up()
    native.warm_up()
    report: dict[str, Any] = {}
    for task_type, asked in requests(args.requests).items():
        task, task_spec = TASK_TYPES[task_type], fleet.tasks[task_type]
        budget = fleet.max_new_tokens(task_type)
        options = {"constrained": task_spec.constrained, "reasks": task_spec.reasks, "copy_spans": task_spec.copy_spans}
        seconds = {"transformers": 0.0, "native": 0.0}
        answers: dict[str, list[Any]] = {"transformers": [], "native": []}
        for start in range(0, len(asked), spec.max_batch):
            batch = asked[start : start + spec.max_batch]
            for name, runner in (("transformers", reference), ("native", native)):
                began = time.perf_counter()
                outcomes = task.run(runner, batch, budget, **options)
                seconds[name] += time.perf_counter() - began
                answers[name] += [o.result.model_dump() if isinstance(o, Answered) else repr(o) for o in outcomes]
            print(f"{task_type}: {start + len(batch)} requests: {seconds}", file=sys.stderr)
        identical = sum(a == b for a, b in zip(answers["transformers"], answers["native"], strict=True))
        report[task_type] = {
            "requests": len(asked),
            "max_new_tokens": budget,
            "requests_per_s": {name: round(len(asked) / s, 3) for name, s in seconds.items()},
            "native_over_transformers": round(seconds["transformers"] / seconds["native"], 2),
            "identical_answers": f"{identical}/{len(asked)}",
        }
    result = {
        "machine": machine(),
        "cpu_flags": cpu_flags(),
        "torch": torch.__version__,
        "threads": args.threads,
        "model": f"{spec.name} ({spec.source}, {spec.quantization})",
        "dtype": str(reference.model.dtype).removeprefix("torch."),
        "max_batch": spec.max_batch,
        "task_types": report,
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
