"""Where slmq's queue overhead goes: no-op round trips through plain Celery, changed one slmq part at a time.

Each variant is a real worker (solo pool) answering a task that does nothing, measured as bench/throughput.py's
``noop`` path does (20 warm-up calls, then the median of 300 one-at-a-time round trips and the tasks/s of a burst
of 1000 sent at once):

  plain            a Celery app with Celery's defaults
  slmq_settings    the same app with slmq's Celery settings (celeryconfig.py: late acks, result-backend retries,
                   socket timeouts, ...) and the worker flags slmq passes (prefetch 16, no mingle or gossip), task
                   events off
  slmq_events      and task events on, as slmq's workers send them (Flower's view)
  slmq_transport   and slmq's Redis transport (workers/transport.py: BLMOVE, ownership records, liveness marks)
  slmq_worker      `slmq worker` itself, answering ``slmq.ping`` (its batcher, liveness sweep and metrics beat),
                   sent as FleetClient's app sends it

Every variant runs ``--repeats`` times, in turn, and the median is kept; the ratios are against ``plain`` in this
run. Writes bench/noop.json.

    python bench/noop.py [--repeats 3] [--redis-url redis://127.0.0.1:6379/13]
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.engine import cpu_flags  # noqa: E402
from bench.soak import machine  # noqa: E402
from bench.throughput import FLEET, MODEL_DIR, measure_noop  # noqa: E402
from producer import FleetClient  # noqa: E402
from slmq.settings import Settings  # noqa: E402

APP = """
import sys
from celery import Celery

SLMQ = {slmq}
TRANSPORT = {transport}
if TRANSPORT and "worker" in sys.argv:
    from workers import transport
    transport.install()
app = Celery("{name}", broker="{url}", backend="{url}", set_as_current=False)
if SLMQ:
    from celeryconfig import celery_config, worker_celery_config
    from slmq.settings import Settings

    app.conf.update(celery_config(Settings(broker_url="{url}"), "{url}", "{url}"))
    app.conf.update(worker_celery_config())
    app.conf.worker_send_task_events = {events}
app.conf.task_default_queue = "noop.{name}"


@app.task(name="noop.{name}")
def noop():
    return "ok"
"""
SLMQ_FLAGS = ["--prefetch-multiplier", "16", "--without-mingle", "--without-gossip"]
# name -> (slmq settings, task events, slmq transport)
PLAIN_VARIANTS: dict[str, tuple[bool, bool, bool]] = {
    "plain": (False, False, False),
    "slmq_settings": (True, False, False),
    "slmq_events": (True, True, False),
    "slmq_transport": (True, True, True),
}


class Bench:
    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.workdir = workdir
        self.env = {
            **os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{workdir}", "PYTHONUNBUFFERED": "1",
            "SLMQ_BROKER_URL": url, "SLMQ_HOME": str(workdir / "home"), "SLMQ_WORKERS_PER_HOST": "1",
        }  # fmt: skip
        sys.path.insert(0, str(workdir))

    def plain(self, name: str) -> tuple[float, float]:
        slmq, events, transport = PLAIN_VARIANTS[name]
        module = f"noop_{name}"
        text = APP.format(name=name, url=self.url, slmq=slmq, transport=transport, events=events)
        (self.workdir / f"{module}.py").write_text(text)
        command = [sys.executable, "-m", "celery", "-A", module, "worker", "-P", "solo", "-l", "WARNING"]
        command += ["-Q", f"noop.{name}", "-n", f"{name}@bench"]
        if slmq:
            command += SLMQ_FLAGS + (["--task-events"] if events else [])
        app: Any = __import__(module).app
        task = app.tasks[f"noop.{name}"]
        with self.process(command, name):
            wait_for(lambda: bool(app.control.ping(destination=[f"{name}@bench"], timeout=0.5)))
            return measure_noop(task.delay)

    def slmq_worker(self) -> tuple[float, float]:
        fleet = self.workdir / "fleet.toml"
        fleet.write_text(
            FLEET.format(model_dir=MODEL_DIR, quantization="none", max_batch=16, max_wait_ms=50, new_tokens=64)
        )
        self.env["SLMQ_FLEET"] = str(fleet)
        client = FleetClient(Settings(broker_url=self.url, fleet=fleet, home=self.workdir / "home"))
        command = [sys.executable, "-m", "slmq", "worker", "--model", "bench", "--node-name", "slmq@bench"]
        with self.process(command, "slmq_worker"):
            wait_for(lambda: bool(client.app.control.ping(destination=["slmq@bench"], timeout=0.5)))
            return measure_noop(lambda: client.app.send_task("slmq.ping", queue="slmq.bench"))

    @contextlib.contextmanager
    def process(self, command: list[str], name: str) -> Iterator[None]:
        with (self.workdir / f"{name}.log").open("ab") as log:
            child = subprocess.Popen(command, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
            try:
                yield
            finally:
                child.terminate()
                child.wait(timeout=60)


def wait_for(ready: Callable[[], bool], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit("a worker did not answer pings in time; see its log in the work directory")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "noop.json")
    args = parser.parse_args()
    if not MODEL_DIR.exists():
        raise SystemExit(f"{MODEL_DIR} is missing: run `slmq worker --model smollm2` once to fetch SmolLM2")
    redis.Redis.from_url(args.redis_url).flushdb()
    samples: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="slmq-noop-") as scratch:
        bench = Bench(args.redis_url, Path(scratch))
        runs: dict[str, Callable[[], tuple[float, float]]] = {
            **{name: (lambda name=name: bench.plain(name)) for name in PLAIN_VARIANTS},  # type: ignore[misc]
            "slmq_worker": bench.slmq_worker,
        }
        for repeat in range(args.repeats):
            for name, run in runs.items():
                print(f"repeat {repeat + 1}: {name} ...", file=sys.stderr, flush=True)
                samples.setdefault(name, []).append(run())
    figures = {
        name: {
            "roundtrip_p50_ms": statistics.median(p50 for p50, _ in runs_of),
            "tasks_per_s": statistics.median(rate for _, rate in runs_of),
            "samples": runs_of,
        }
        for name, runs_of in samples.items()
    }
    plain = figures["plain"]
    for figure in figures.values():
        figure["tasks_per_s / plain"] = figure["tasks_per_s"] / plain["tasks_per_s"]
        figure["p50 / plain"] = figure["roundtrip_p50_ms"] / plain["roundtrip_p50_ms"]
    report = {"machine": machine(), "cpu_flags": cpu_flags(), "repeats": args.repeats, "variants": figures}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'variant':<16} {'p50 ms':>8} {'tasks/s':>9} {'tasks/s vs plain':>17} {'p50 vs plain':>13}")
    for name, figure in figures.items():
        print(
            f"{name:<16} {figure['roundtrip_p50_ms']:8.2f} {figure['tasks_per_s']:9.0f} "
            f"{figure['tasks_per_s / plain']:16.2f}x {figure['p50 / plain']:12.2f}x"
        )


if __name__ == "__main__":
    main()
