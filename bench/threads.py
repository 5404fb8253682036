"""Torch's CPU kernels on the main thread and on others: why a worker runs all torch work on its model thread.

One model (fleet.toml's general model, SmolLM2-135M, dense), one input (a batch of 16 rows of 8 tokens), timed forwards
on: a thread started before the main thread has run any (as a worker's model thread is), a second such thread, the
main thread, and a thread started after the main thread has run them. Prints milliseconds a forward for each, bf16
and fp32, and each over the first thread's.

    python bench/threads.py [--forwards 20] [--output bench/threads.json]
"""

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.engine import cpu_flags  # noqa: E402
from bench.soak import machine  # noqa: E402
from slmq.fleet import load_fleet  # noqa: E402
from slmq.settings import Settings  # noqa: E402

ORDER = ("thread, before the main thread", "another thread, before", "main thread", "thread, after the main thread")


def timed(model: Any, batch: Any, forwards: int, on_thread: bool) -> float:
    """Milliseconds a forward of ``batch`` takes, on this thread or on a new one."""
    import torch

    took: list[float] = []

    def run() -> None:
        with torch.inference_mode():
            for _ in range(3):
                model(batch)
            began = time.perf_counter()
            for _ in range(forwards):
                model(batch)
            took.append((time.perf_counter() - began) / forwards * 1000)

    if on_thread:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    else:
        run()
    return round(took[0], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forwards", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--dtype", choices=["bf16", "fp32"], help="only this one (default: bf16, then fp32)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "threads.json")
    args = parser.parse_args()
    if args.dtype is None:  # each dtype in a process of its own: the main thread must not have run a kernel yet
        import subprocess

        results = {}
        for dtype in ("bf16", "fp32"):
            command = [sys.executable, __file__, "--dtype", dtype, "--forwards", str(args.forwards)]
            out = subprocess.run([*command, "--threads", str(args.threads)], check=True, capture_output=True, text=True)
            results[dtype] = json.loads(out.stdout)
        report = {"machine": machine(), "cpu_flags": cpu_flags(), "torch_threads": args.threads, **results}
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(report, indent=2))
        return

    import torch
    from transformers import AutoModelForCausalLM

    from workers.model.sources import materialize

    torch.set_num_threads(args.threads)
    fleet = load_fleet(REPO / "fleet.toml")
    spec = fleet.model(fleet.tasks["general"].model)
    directory = materialize(spec, fleet, Settings().models_dir)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype).eval()
    batch = torch.randint(0, 1000, (16, 8))
    ms = {where: timed(model, batch, args.forwards, on_thread=where != "main thread") for where in ORDER}
    first = ms[ORDER[0]]
    print(json.dumps({"forward_ms": ms, "over_the_first_thread": {k: round(v / first, 2) for k, v in ms.items()}}))


if __name__ == "__main__":
    main()
