"""Does `slmq parse` keep its memory flat as files grow? 1,000 and 10,000 lines, side by side.

Uses the tiny random test model (the question is the producer's memory, not the model's speed) on
the `sentiment` task, one worker, a real Redis. Samples the parse process's RSS every 0.1 s.

    python bench/bulk_memory.py [--lines 1000 10000] [--redis-url redis://127.0.0.1:6379/12]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.tiny_model import build_tiny_model  # noqa: E402

FLEET = """
[models.tiny]
source = "path:{model_dir}"
quantization = "none"
max_batch = 32
max_wait_ms = 20
context_limit = 512

[tasks.sentiment]
model = "tiny"
"""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def parse(env: dict[str, str], lines: int, workdir: Path) -> dict[str, float]:
    source, target = workdir / f"in-{lines}.jsonl", workdir / f"out-{lines}.jsonl"
    with source.open("w") as out:
        for n in range(lines):
            out.write(
                json.dumps({"id": f"n{n}", "text": f"Delivery {n} arrived {'late' if n % 3 else 'early'}."}) + "\n"
            )
    command = [sys.executable, "-m", "slmq", "parse", str(source), "-o", str(target), "--task", "sentiment"]
    started = time.perf_counter()
    child = subprocess.Popen([*command, "--no-spawn"], env=env, stderr=subprocess.DEVNULL)
    samples = []
    while child.poll() is None:
        try:
            samples.append(rss_mib(child.pid))
        except OSError:
            break
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    written = sum(1 for _ in target.open())
    assert child.returncode == 0 and written == lines, f"parse exited {child.returncode} with {written} lines"
    return {"lines": lines, "seconds": seconds, "lines_per_s": lines / seconds, "peak_rss_mib": max(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    redis.Redis.from_url(args.redis_url).flushdb()
    with tempfile.TemporaryDirectory(prefix="slmq-bulk-") as scratch:
        workdir = Path(scratch)
        (workdir / "fleet.toml").write_text(FLEET.format(model_dir=build_tiny_model(workdir / "tiny")))
        env = {**os.environ, "SLMQ_BROKER_URL": args.redis_url, "SLMQ_FLEET": str(workdir / "fleet.toml"),
               "SLMQ_HOME": str(workdir / "home")}  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "-m", "slmq", "worker", "--model", "tiny"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            subprocess.run([sys.executable, "-m", "slmq", "submit", "sentiment", "warm-up"], env=env, check=True,
                           capture_output=True)  # fmt: skip
            results = [parse(env, lines, workdir) for lines in args.lines]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=120)
    for result in results:
        print(
            f"{result['lines']:>7} lines  {result['seconds']:7.1f} s  {result['lines_per_s']:7.1f} lines/s  "
            f"peak RSS {result['peak_rss_mib']:6.1f} MiB  ({result['peak_rss_mib'] / results[0]['peak_rss_mib']:.2f}x)"
        )


if __name__ == "__main__":
    main()
