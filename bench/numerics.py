"""CPU numerics side by side: the specialist's nf4 weights served as nf4 layers, dense fp32, dense bf16, and int8.

The served workload (the generation specialist as examples/fleet-generation.toml serves it: adapter, delivery_note's
grammar, copy spans, budget and re-asks; the native engine) on the same held-out notes, batch by batch in turn (so
every variant sees the same machine noise). ``dequantize = true`` picks fp32 or bf16 by the CPU
(workers/model/nf4.py); this measures them on the CPU at hand: notes/s, micro-F1 by the contract's scoring, and
records identical to the first variant's (by default the nf4 layers', what the adapter was trained over).

The int8 variants quantize the dense bf16 model's decoder layers (not its head), weights per output channel:
``int8-token`` quantizes each token's activations on its own and multiplies by ``torch._int_mm``; ``torchao-int8``
is torchao's ``Int8DynamicActivationInt8WeightConfig`` (eager, where torchao is installed; it is not a
dependency). Neither is served; they are measured to show what int8 costs and buys here.

    python bench/numerics.py [--notes 48] [--data data/delivery_note/heldout-v2.jsonl] [--variants bf16 int8-token]

Writes bench/numerics.json.
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.engine import cpu_flags  # noqa: E402
from bench.soak import machine  # noqa: E402
from slmq.fleet import load_fleet  # noqa: E402
from slmq.schemas import DeliveryNoteRequest  # noqa: E402
from slmq.settings import Settings  # noqa: E402
from slmq.training.evaluation import load_labelled  # noqa: E402
from slmq.training.scoring import score  # noqa: E402

if TYPE_CHECKING:
    import torch

VARIANTS = ("nf4", "fp32", "bf16", "int8-token", "torchao-int8")


def int8_token_linear(linear: "torch.nn.Linear") -> "torch.nn.Module":
    """``linear`` with int8 weights (one scale per output channel) applied to int8 activations (one scale per token)."""
    import torch

    class Int8TokenLinear(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            weight = linear.weight.detach().float()
            self.scales = (weight.abs().amax(1) / 127).clamp(min=1e-8)
            self.weight8 = (weight / self.scales[:, None]).round().to(torch.int8).t().contiguous()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            flat = x.reshape(-1, x.shape[-1]).float()
            scale = (flat.abs().amax(1, keepdim=True) / 127).clamp(min=1e-8)
            product = torch._int_mm((flat / scale).round().to(torch.int8), self.weight8)
            return (product.float() * scale * self.scales).to(x.dtype).reshape(*x.shape[:-1], -1)

    return Int8TokenLinear()


def quantize_int8(model: "torch.nn.Module", variant: str) -> None:
    """Quantize ``model``'s decoder linear layers in place (its output layer stays as it is)."""
    import torch

    decoder = model.get_decoder()
    if variant == "torchao-int8":
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

        quantize_(decoder, Int8DynamicActivationInt8WeightConfig())
        return
    for module in list(decoder.modules()):
        for name, child in list(module.named_children()):
            if type(child) is torch.nn.Linear:
                setattr(module, name, int8_token_linear(child))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=48)
    parser.add_argument("--model", default="smollm2-notes")
    parser.add_argument("--data", type=Path, default=REPO / "data/delivery_note/heldout-v2.jsonl")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS[:3]))
    parser.add_argument("--output", type=Path, default=REPO / "bench/numerics.json")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from workers.model.runner import ModelRunner
    from workers.model.sources import materialize
    from workers.model.tasktypes import Answered
    from workers.model.tasktypes.delivery_note import DeliveryNoteTask

    fleet = load_fleet(REPO / "examples/fleet-generation.toml")
    spec = fleet.model(args.model).model_copy(update={"engine": "native"})
    task_spec = fleet.tasks["delivery_note"]
    model_dir = materialize(spec, fleet, Settings().models_dir)
    adapter = fleet.resolve(spec.adapter) if spec.adapter else None
    dense = spec.model_copy(update={"dequantize": True})
    runners = {}
    for variant in args.variants:
        if variant == "nf4":
            runners[variant] = ModelRunner.load(
                spec.model_copy(update={"dequantize": False}), model_dir, "cpu", adapter
            )
        else:
            dtype = torch.float32 if variant == "fp32" else torch.bfloat16
            runners[variant] = ModelRunner.load(dense, model_dir, "cpu", adapter, dtype)
            if variant in ("int8-token", "torchao-int8"):
                quantize_int8(runners[variant].model, variant)
        runners[variant].warm_up()
    reference = args.variants[0]
    records = load_labelled(args.data)[: args.notes]
    task = DeliveryNoteTask()
    budget = task_spec.max_new_tokens or spec.max_new_tokens
    options = {"constrained": task_spec.constrained, "reasks": task_spec.reasks, "copy_spans": task_spec.copy_spans}
    seconds = dict.fromkeys(runners, 0.0)
    outputs: dict[str, list[object]] = {name: [] for name in runners}
    for start in range(0, len(records), spec.max_batch):
        requests = [DeliveryNoteRequest(text=r["text"]) for r in records[start : start + spec.max_batch]]
        for name, runner in runners.items():
            began = time.perf_counter()
            outcomes = task.run(runner, requests, budget, **options)
            seconds[name] += time.perf_counter() - began
            outputs[name] += [o.result.model_dump(mode="json") if isinstance(o, Answered) else None for o in outcomes]
        print(f"{start + len(requests)} notes: { {k: round(v, 1) for k, v in seconds.items()} }", file=sys.stderr)

    def f1(predicted: list[object]) -> float | None:
        return score((r["id"], r["gold"], p) for r, p in zip(records, predicted, strict=True)).micro.f1

    result = {
        "machine": machine(),
        "cpu_flags": cpu_flags(),
        "torch": torch.__version__,
        "threads": args.threads,
        "model": f"{spec.name} ({spec.source}, nf4, adapter {spec.adapter}, native engine)",
        "data": str(args.data.relative_to(REPO)) if args.data.is_relative_to(REPO) else str(args.data),
        "notes": len(records),
        "seconds": {name: round(s, 1) for name, s in seconds.items()},
        "reference": reference,
        "speed_over_reference": {name: round(seconds[reference] / s, 2) for name, s in seconds.items()},
        "micro_f1": {name: round(value, 4) if (value := f1(p)) is not None else None for name, p in outputs.items()},
        "identical_to_reference": {
            name: f"{sum(a == b for a, b in zip(outputs[reference], p, strict=True))}/{len(records)}"
            for name, p in outputs.items()
        },
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
