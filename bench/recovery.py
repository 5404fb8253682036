"""Recovery of the shipped delivery-note model: two workers, one SIGKILLed mid-batch, then Redis SIGKILLed and
restarted.

The fleet is the repository's fleet.toml as shipped (its delivery_note model; until 2026-12-06 smollm2-notes, nf4,
its adapter, grammar and copy decoding) with the default settings (SLMQ_TASK_TIME_LIMIT_S=300, so the visibility
timeout is 1,210 s, and SLMQ_WORKER_DEAD_AFTER_S=30), on a redis-server of its own with append-only persistence. Two
workers share the host's cores (SLMQ_WORKERS_PER_HOST=2). It submits held-out notes, SIGKILLs one worker in the
middle of a batch, then SIGKILLs Redis and restarts it on its append-only file, and reports when every note was
answered and whether any was lost or answered twice (the fault tests' ledger).

    python bench/recovery.py --notes 48 --out bench/recovery.json
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.soak import machine  # noqa: E402
from producer import FleetClient  # noqa: E402
from slmq.fleet import load_fleet  # noqa: E402
from tests.faults.conftest import RedisServer, Workers, mid_batch, wait_for  # noqa: E402
from tests.faults.ledger import Ledger  # noqa: E402
from tests.integration.conftest import Deployment  # noqa: E402

MODEL = load_fleet(REPO / "fleet.toml").model_for("delivery_note").name


def shipped_fleet(directory: Path) -> Path:
    """The repository's fleet.toml, its relative paths (the adapter) pointing into the repository."""
    text = (REPO / "fleet.toml").read_text().replace('adapter = "adapters/', f'adapter = "{REPO}/adapters/')
    text = text.replace('tagger = "adapters/', f'tagger = "{REPO}/adapters/')  # the shipped tagger
    path = directory / "fleet.toml"
    path.write_text(text)
    return path


def run(directory: Path, notes: int, models_dir: Path) -> dict[str, object]:
    redis_server = RedisServer(directory / "redis")
    redis_server.start()
    env = {
        **os.environ,
        "SLMQ_BROKER_URL": redis_server.url,
        "SLMQ_FLEET": str(shipped_fleet(directory)),
        "SLMQ_HOME": str(directory / "home"),
        "SLMQ_MODEL_CACHE": str(models_dir),
        "SLMQ_WORKERS_PER_HOST": "2",
        "PYTHONUNBUFFERED": "1",
    }
    deployment = Deployment(env, directory / "home")
    workers = Workers(deployment)
    try:
        first, second = workers.start(MODEL, node=f"{MODEL}@first"), workers.start(MODEL, node=f"{MODEL}@second")
        ledger = Ledger(FleetClient(deployment.settings()), redis_server.url, f"slmq.{MODEL}")
        lines = (REPO / "data/delivery_note/heldout-v1.jsonl").read_text().splitlines()[:notes]
        started = time.monotonic()
        for line in lines:
            ledger.submit("delivery_note", json.loads(line)["text"])
        wait_for(lambda: mid_batch(first), 600, "the first worker started no batch", poll=0.05)
        first.process.send_signal(signal.SIGKILL)
        killed = time.monotonic() - started
        first.process.wait(timeout=60)
        time.sleep(5)
        redis_server.kill()
        time.sleep(1)
        redis_server.start()
        ledger.wait(1800)
        answered = time.monotonic() - started
        report = ledger.check()
        second.stop(signal.SIGTERM, timeout=600)
        return {
            "machine": machine(),
            "notes": notes,
            "worker_killed_at_s": round(killed, 1),
            "all_answered_at_s": round(answered, 1),
            "answered": report.answered,
            "lost": len(report.lost),
            "duplicated": len(report.duplicated),
            "redelivered": report.redelivered,
            "outcomes": report.outcomes,
            "survivor_swept": "stopped beating" in second.output(),
        }
    finally:
        workers.kill_all()
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=48)
    parser.add_argument("--models", type=Path, default=Path("~/.slmq/models").expanduser(), help="the model cache")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slmq-recovery-") as scratch:
        summary = run(Path(scratch), args.notes, args.models)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
