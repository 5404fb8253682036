"""The native engine's decode forward under each attention path, on one device, in one run.

The engine packs the tokens its rows are fed into one forward and attends each over its own cache row
(workers/model/engine/attention.py): rows fed at most ``MATMUL_WIDTH`` tokens attend by two matmuls with the
query heads of each key head grouped, wider ones by torch's ``scaled_dot_product_attention``. This times one
decode forward with each path forced, side by side, with 1 to 9 tokens fed per row (a step's pending token and
its guesses) over rows that hold a prompt each, on SmolLM2-135M's shapes with random weights.

    python bench/forward.py --config DIR [--device cuda:0] [--dtype bf16] [--rows 16] [--widths 1 2 4 9]

Prints ms per decode forward for each path and their ratio; writes --output (JSON).
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

PATHS = {"matmul": 10**6, "sdpa": 0}  # MATMUL_WIDTH forcing each path


def forward_ms(engine: Any, prompts: list[list[int]], width: int, repeats: int, device: str) -> float:
    """Milliseconds of one decode forward feeding ``width`` tokens to every row, the rows holding ``prompts``."""
    import torch

    feeds = torch.randint(0, 1000, (len(prompts), width)).tolist()
    starts = [len(prompt) for prompt in prompts]
    engine._forward(0, feeds, starts, last_only=False)  # warm-up at this width
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    began = time.perf_counter()
    for _ in range(repeats):
        engine._forward(0, feeds, starts, last_only=False)  # the same positions each time: the rows stay as they are
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 1000 * (time.perf_counter() - began) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="a directory with the model's config.json")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["fp32", "bf16"], help="default: fp32 on a CPU, bf16 on a GPU")
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--prompt", type=int, default=300, help="prompt tokens per row")
    parser.add_argument("--widths", type=int, nargs="+", default=[1, 2, 4, 9], help="tokens fed per row")
    parser.add_argument("--repeats", type=int, default=10, help="forwards timed per width")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=REPO / "bench/forward.json")
    args = parser.parse_args()

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from workers.model.engine import NativeEngine, attention

    torch.manual_seed(0)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.dtype or ("fp32" if args.device == "cpu" else "bf16")]
    config = AutoConfig.from_pretrained(args.config)
    model = AutoModelForCausalLM.from_config(config, dtype=dtype).to(args.device).eval()
    prompts = [torch.randint(0, config.vocab_size, (args.prompt + 7 * row,)).tolist() for row in range(args.rows)]
    engine = NativeEngine(model, [-1], args.device, args.rows)
    engine.generate(prompts, 1)  # the prompts' keys and values stay in the cache rows 0..rows-1
    timings: dict[str, dict[int, list[float]]] = {path: {width: [] for width in args.widths} for path in PATHS}
    for _ in range(args.rounds):  # the paths alternate, so both see the same machine noise
        for path, matmul_width in PATHS.items():
            attention.MATMUL_WIDTH = matmul_width  # read at every attention call
            for width in args.widths:
                with torch.inference_mode():  # the engine's cache is an inference tensor
                    timings[path][width].append(forward_ms(engine, prompts, width, args.repeats, args.device))
    best = {path: {width: round(min(v), 2) for width, v in widths.items()} for path, widths in timings.items()}
    result = {
        "device": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu",
        "torch": torch.__version__,
        "dtype": str(dtype).removeprefix("torch."),
        "machine": machine(),
        "cpu_flags": cpu_flags(),
        "rows": args.rows,
        "prompt_tokens": args.prompt,
        "decode_ms_per_forward_by_width_best_of_rounds": best,
        "all_rounds": timings,
        "sdpa_ms_over_matmul_ms": {
            width: round(best["sdpa"][width] / best["matmul"][width], 2) for width in args.widths
        },
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
