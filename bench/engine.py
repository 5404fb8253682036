"""The native engine against transformers' generate(), in one process, on the workload as it is served.

The generation specialist as examples/fleet-generation.toml serves it (its source, quantization and adapter;
delivery_note's grammar,
copy spans, budget and re-asks) parses the same held-out notes through ``DeliveryNoteTask.run`` with each
engine, batch by batch in turn (so both see the same machine noise). Prints notes/s of each and their
ratio, how many records are identical, micro-F1 of each by the contract's scoring, and what the native
engine did (forwards, tokens guessed and kept, prompt tokens taken from a stored prefix), and how long a note
waits for its answer in its batch: until the batch ends, or until its row finishes (as a worker answers it).

    python bench/engine.py [--notes 48] [--model smollm2-notes] [--data data/delivery_note/heldout-v2.jsonl]
    python bench/engine.py --lone [--notes 16]
    python bench/engine.py --dense fp32        # the fleet's nf4 weights dense in fp32 instead of the CPU's choice
    python bench/engine.py --device cuda:0 --random-weights DIR   # on a GPU machine the weights cannot reach

``--lone`` times notes one at a time instead (a lone note on an idle worker): transformers, the native engine
with spare guesses and without them (as before 2026-12-07), each note in turn on all three.
Writes bench/engine-lone.json. ``--speculation N [N ...]`` runs the native engine alone on the batches, with each of
these spare-guess budgets in turn (fleet.toml's ``speculation``), each keeping its own recent outputs to guess from.
Writes bench/engine-speculation.json.

``--random-weights DIR`` serves a model built from DIR's config.json and tokenizer with random weights
(bf16 on a GPU, no adapter): the same shapes, prompts, grammar and budget, so the engines' speeds compare,
but the records are noise (their F1 means nothing; identical records still do).

Writes bench/engine.json.
"""

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.soak import machine  # noqa: E402
from slmq.fleet import load_fleet  # noqa: E402
from slmq.schemas import DeliveryNoteRequest  # noqa: E402
from slmq.settings import Settings  # noqa: E402
from slmq.training.evaluation import load_labelled  # noqa: E402
from slmq.training.scoring import score  # noqa: E402


def cpu_flags() -> str:
    """The SIMD flags that decide CPU kernels: AVX2, AVX-512 and its bf16/VNNI, AMX."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    wanted = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_bf16", "amx_int8")
    return " ".join(flag for flag in wanted if flag in flags) or "none of avx2/avx512/amx"


def random_runner(spec: Any, directory: Path, device: str) -> Any:
    """A transformers-engine runner over a model of ``directory``'s config with random weights (seed 0)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from workers.model.runner import ModelRunner

    torch.manual_seed(0)
    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(directory), dtype=dtype).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(directory)
    tokenizer.padding_side = "left"
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    return ModelRunner(spec.model_copy(update={"engine": "transformers"}), model, tokenizer, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=48)
    parser.add_argument("--model", default="smollm2-notes")
    parser.add_argument("--data", type=Path, default=REPO / "data/delivery_note/heldout-v2.jsonl")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dequantize", action="store_true", help="the native side serves nf4 dequantized")
    parser.add_argument(
        "--dense", choices=["fp32", "bf16"], help="the dtype nf4 is served dense in (default: the CPU's)"
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda:0")
    parser.add_argument("--random-weights", type=Path, metavar="DIR", help="config.json and tokenizer of the model")
    parser.add_argument("--max-batch", type=int, help="rows per batch (default: the fleet's)")
    parser.add_argument("--lone", action="store_true", help="notes one at a time, with and without spare guesses")
    parser.add_argument("--speculation", type=int, nargs="+", help="native alone, with each spare-guess budget")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    name = "engine-lone" if args.lone else "engine-speculation" if args.speculation else "engine"
    args.output = args.output or REPO / "bench" / f"{name}.json"
    if args.lone and args.speculation:
        parser.error("--lone and --speculation are two runs; give one")
    if args.random_weights and args.dequantize:
        parser.error("--random-weights serves unquantized weights; drop --dequantize")

    import torch

    torch.set_num_threads(args.threads)
    from workers.model.runner import ModelRunner
    from workers.model.sources import materialize
    from workers.model.tasktypes import Answered
    from workers.model.tasktypes.delivery_note import DeliveryNoteTask

    fleet = load_fleet(REPO / "examples/fleet-generation.toml")
    spec = fleet.model(args.model)
    if args.max_batch:
        spec = spec.model_copy(update={"max_batch": args.max_batch})
    task_spec = fleet.tasks["delivery_note"]
    if args.random_weights:
        spec = spec.model_copy(update={"quantization": "none", "dequantize": False, "adapter": None})
        reference = random_runner(spec, args.random_weights, args.device)
    else:
        model_dir = materialize(spec, fleet, Settings().models_dir)
        adapter = fleet.resolve(spec.adapter) if spec.adapter else None
        dense = {"fp32": torch.float32, "bf16": torch.bfloat16}.get(args.dense or "")
        reference = ModelRunner.load(
            spec.model_copy(update={"engine": "transformers"}), model_dir, args.device, adapter, dense
        )
    native_spec = spec.model_copy(update={"engine": "native", "dequantize": args.dequantize})
    if args.dequantize:
        native = ModelRunner.load(native_spec, model_dir, args.device, adapter, dense)
    else:
        native = ModelRunner(native_spec, reference.model, reference.tokenizer, args.device)
    records = load_labelled(args.data)[: args.notes]
    task = DeliveryNoteTask()
    budget = task_spec.max_new_tokens or spec.max_new_tokens
    options = {"constrained": task_spec.constrained, "reasks": task_spec.reasks, "copy_spans": task_spec.copy_spans}
    native.warm_up()
    reference.warm_up()
    if args.lone or args.speculation:
        if args.lone:
            mode = one_at_a_time(task, {"transformers": reference, "native": native}, records, budget, options)
        else:
            mode = by_speculation(task, native, records, budget, options, args.speculation)
        result = {"machine": machine(), "cpu_flags": cpu_flags(), "torch": torch.__version__, **mode}
        args.output.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        return

    seconds = {"transformers": 0.0, "native": 0.0}
    outputs: dict[str, list[Any]] = {"transformers": [], "native": []}
    answered: dict[str, list[float]] = {"at_batch_end": [], "as_rows_finish": []}  # native, seconds into its batch
    for start in range(0, len(records), spec.max_batch):
        requests = [DeliveryNoteRequest(text=r["text"]) for r in records[start : start + spec.max_batch]]
        for name, runner in (("transformers", reference), ("native", native)):
            heard: dict[int, float] = {}  # when each valid result was known (a worker stores and acks it then)
            began = time.perf_counter()
            outcomes = task.run(
                runner,
                requests,
                budget,
                **options,
                on_answer=lambda i, _, known=heard: known.setdefault(i, time.perf_counter()),
            )
            ended = time.perf_counter()
            seconds[name] += ended - began
            outputs[name] += [o.result.model_dump(mode="json") if isinstance(o, Answered) else None for o in outcomes]
            if name == "native":
                answered["at_batch_end"] += [ended - began] * len(requests)
                answered["as_rows_finish"] += [heard.get(i, ended) - began for i in range(len(requests))]
        print(f"{start + len(requests)} notes: {seconds}", file=sys.stderr)

    identical = sum(a == b for a, b in zip(outputs["transformers"], outputs["native"], strict=True))
    f1 = {
        name: score((r["id"], r["gold"], p) for r, p in zip(records, predicted, strict=True)).micro.f1
        for name, predicted in outputs.items()
    }
    assert native.engine is not None
    result = {
        "machine": machine(),
        "cpu_flags": cpu_flags(),
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu",
        "weights": f"random, from {args.random_weights.name}'s config" if args.random_weights else "the fleet's",
        "threads": args.threads,
        "model": f"{spec.name} ({spec.source}, {spec.quantization}, adapter {spec.adapter})",
        "native_dequantized": str(native.model.dtype).removeprefix("torch.") if native.dequantized else False,
        "data": str(args.data.relative_to(REPO)) if args.data.is_relative_to(REPO) else str(args.data),
        "notes": len(records),
        "max_batch": spec.max_batch,
        "notes_per_s": {name: round(len(records) / s, 3) for name, s in seconds.items()},
        "native_over_transformers": round(seconds["transformers"] / seconds["native"], 2),
        "identical_records": f"{identical}/{len(records)}",
        "micro_f1": {name: round(value, 4) if value is not None else None for name, value in f1.items()},
        "native_counters": dataclasses.asdict(native.engine.counters),
        # How long a note of a batch waits for its answer, answered when its batch ends (before 2026-12-07) or as
        # its row finishes (the batcher stores and acks each valid result then): mean and median, seconds
        "native_answer_s": {
            when: {"mean": round(statistics.mean(times), 2), "p50": round(statistics.median(times), 2)}
            for when, times in answered.items()
        },
        "native_answer_mean_ratio": round(
            statistics.mean(answered["as_rows_finish"]) / statistics.mean(answered["at_batch_end"]), 3
        ),
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def one_at_a_time(
    task: Any, runners: dict[str, Any], records: list[dict[str, Any]], budget: int, options: dict[str, Any]
) -> dict[str, Any]:
    """Each note alone on transformers, then on the native engine with spare guesses and without them (the first
    note, untimed, warms each up and gives the engine's n-gram lookup an output to start from)."""
    from workers.model.tasktypes import Answered

    native = runners["native"]
    engine = native.engine
    # with spare guesses before without: else its n-gram lookup would find this very note's answer among recent outputs
    paths = {"transformers": (runners["transformers"], None), "native": (native, None), "native_no_spare": (native, 0)}
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    forwards: dict[str, int] = {name: 0 for name in paths}
    records_out: dict[str, list[Any]] = {name: [] for name in paths}
    for number, record in enumerate(records):
        request = DeliveryNoteRequest(text=record["text"])
        for name, (runner, speculation) in paths.items():
            engine.speculation = native.spec.speculation if speculation is None else speculation
            before = engine.counters.forwards
            began = time.perf_counter()
            (outcome,) = task.run(runner, [request], budget, **options)
            if number:  # the first note warms up
                seconds[name].append(time.perf_counter() - began)
                forwards[name] += engine.counters.forwards - before
                records_out[name].append(
                    outcome.result.model_dump(mode="json") if isinstance(outcome, Answered) else None
                )
    timed = len(records) - 1
    p50 = {name: statistics.median(times) for name, times in seconds.items()}
    return {
        "mode": "lone notes, one at a time",
        "notes_timed": timed,
        "speculation": native.spec.speculation,
        "weights": f"both engines over {native.model.dtype}" + (" (nf4 dequantized)" if native.dequantized else ""),
        "p50_s": {name: round(value, 3) for name, value in p50.items()},
        "mean_s": {name: round(statistics.mean(times), 3) for name, times in seconds.items()},
        "native_forwards_per_note": {name: round(forwards[name] / timed, 1) for name in ("native_no_spare", "native")},
        "p50_ratio_native_over_transformers": round(p50["native"] / p50["transformers"], 3),
        "p50_ratio_native_over_no_spare": round(p50["native"] / p50["native_no_spare"], 3),
        "identical_records_native_vs_no_spare": sum(
            a == b for a, b in zip(records_out["native"], records_out["native_no_spare"], strict=True)
        ),
        "identical_records_native_vs_transformers": sum(
            a == b for a, b in zip(records_out["native"], records_out["transformers"], strict=True)
        ),
    }


def by_speculation(
    task: Any, native: Any, records: list[dict[str, Any]], budget: int, options: dict[str, Any], values: list[int]
) -> dict[str, Any]:
    """The native engine on each batch once per spare-guess budget, in turn; each budget guesses from the outputs it
    wrote itself (else a later one would find this batch's own answers among the recent outputs)."""
    from workers.model.engine.engine import RECENT, NgramIndex

    engine = native.engine
    recent = {value: NgramIndex(RECENT) for value in values}
    seconds = {value: 0.0 for value in values}
    forwards = {value: 0 for value in values}
    fed = {value: 0 for value in values}
    for start in range(0, len(records), native.spec.max_batch):
        requests = [DeliveryNoteRequest(text=r["text"]) for r in records[start : start + native.spec.max_batch]]
        for value in values:
            engine.speculation, engine.recent = value, recent[value]
            before = dataclasses.replace(engine.counters)
            began = time.perf_counter()
            task.run(native, requests, budget, **options)
            seconds[value] += time.perf_counter() - began
            forwards[value] += engine.counters.forwards - before.forwards
            fed[value] += engine.counters.drafted - before.drafted
        print(f"{start + len(requests)} notes: {seconds}", file=sys.stderr)
    return {
        "mode": f"batches of {native.spec.max_batch}, native only, by spare-guess budget",
        "notes": len(records),
        "notes_per_s": {value: round(len(records) / seconds[value], 3) for value in values},
        "forwards": forwards,
        "guessed_tokens_fed": fed,
    }


if __name__ == "__main__":
    main()
