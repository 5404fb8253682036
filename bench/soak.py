"""Soak: >= 1,000 tasks through real workers and a real redis-server while faults are injected; a ledger checks.

Faults, in rotation: a worker SIGKILLed mid-batch, a worker SIGTERMed mid-batch, Redis SIGKILLed and
restarted on its append-only directory, Redis down while the producer publishes (refused submissions
are sent again under the same task id), and Redis paused with SIGSTOP (30 s for the first, then shorter).
Two workers serve the queue; a stopped worker is replaced. At the end the ledger reports lost,
duplicated and unexpected results and the dead letters, and each fault's recovery time (from the end
of the fault to the next answered task). For each worker SIGKILL it also times how long the messages the
killed worker held (its owned hash in Redis at the kill) took to be answered: the time limit is long
(``--time-limit``, so the visibility timeout is minutes), and liveness (``--dead-after``) must bring them back.

    python bench/soak.py --tasks 1000 --faults 20 --out bench/soak.json
"""

import argparse
import json
import platform
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from producer import FleetClient  # noqa: E402
from slmq.constants import OWNED_KEY_PREFIX  # noqa: E402
from slmq.settings import Settings  # noqa: E402
from tests.faults.conftest import FAULT_FLEET, RedisServer, Workers, fault_deployment, mid_batch  # noqa: E402
from tests.faults.ledger import Ledger  # noqa: E402
from tests.integration.conftest import WorkerProcess  # noqa: E402
from tests.tiny_model import build_tiny_model  # noqa: E402

FAULTS = ("worker_sigkill", "worker_sigterm", "redis_kill", "redis_down_publish", "redis_pause")
QUEUE = "slmq.tiny"


class Soak:
    def __init__(self, directory: Path, args: argparse.Namespace) -> None:
        tasks, faults, long_pause_s, seed = args.tasks, args.faults, args.long_pause, args.seed
        self.redis = RedisServer(directory / "redis")
        self.redis.start()
        model = build_tiny_model(directory / "model")
        # SLMQ_MAX_ATTEMPTS=3 (the default): a task hit by two faults in a row is still answered
        self.deployment = fault_deployment(
            directory / "deploy", self.redis.url, model, FAULT_FLEET, SLMQ_MAX_ATTEMPTS="3",
            SLMQ_TASK_TIME_LIMIT_S=str(args.time_limit), SLMQ_WORKER_DEAD_AFTER_S=str(args.dead_after),
        )  # fmt: skip
        self.visibility_timeout_s = Settings(task_time_limit_s=args.time_limit).effective_visibility_timeout_s()
        self.dead_after_s = args.dead_after
        self.held_answered: list[float] = []  # per worker SIGKILL: seconds until what it held was answered
        self.workers = Workers(self.deployment)
        self.ledger = Ledger(FleetClient(self.deployment.settings()), self.redis.url, QUEUE)
        self.tasks, self.faults, self.long_pause_s = tasks, faults, long_pause_s
        self.random = random.Random(seed)
        self.recoveries: list[dict[str, object]] = []
        self.faulting = threading.Event()
        self.samples: list[tuple[float, int]] = []  # (time, tasks answered so far), every half second

    def run(self) -> dict[str, object]:
        started = time.monotonic()
        live = [self.workers.start(node="tiny@soak-a"), self.workers.start(node="tiny@soak-b")]
        producer = threading.Thread(target=self._produce, daemon=True)
        self.faulting.set()
        producer.start()
        threading.Thread(target=self._sample, daemon=True).start()
        for number in range(self.faults):
            time.sleep(self.random.uniform(8, 12))  # steady traffic between faults: the throughput baseline
            kind = FAULTS[number % len(FAULTS)]
            before, began = self._answered(), time.monotonic()
            ended = self._inject(kind, number, live)
            recovery = self._recovery(before, ended)
            normal = self._back_to_normal(began, ended)
            self.recoveries.append({"fault": kind, "recovery_s": recovery, "back_to_normal_s": normal})
            print(f"fault {number + 1:2d} {kind:20s} next answer {recovery:.1f}s after it ended", flush=True)
        self.faulting.clear()
        producer.join()
        self._resubmit_refused()
        self.ledger.wait(self.visibility_timeout_s + 60)  # a re-delivery comes within it; a lost task never does
        report = self.ledger.check()
        for worker in self.workers.started:
            if worker.process.poll() is None:
                worker.stop(signal.SIGTERM)
        self.redis.stop()
        return self._summary(report, time.monotonic() - started)

    def _produce(self) -> None:
        """A steady stream (about 4 tasks/s) while faults are injected, and at least ``tasks`` in all."""
        n = 0
        while self.faulting.is_set() or n < self.tasks:
            self.ledger.submit("summarize", f"Soak report {n}: consignment {n * 17 % 1009} left depot {n % 11}.")
            time.sleep(self.random.uniform(0.1, 0.4))
            n += 1
            if n % 50 == 0:
                self._resubmit_refused()

    def _resubmit_refused(self) -> None:
        if not self.redis.answers():
            return
        for task_id in list(self.ledger.refused):
            self.ledger.submit("summarize", f"Resubmitted {task_id}.", task_id=task_id)

    def _inject(self, kind: str, number: int, live: list[WorkerProcess]) -> float:
        if kind in ("worker_sigkill", "worker_sigterm"):
            index = number % len(live)
            victim = live[index]
            deadline = time.monotonic() + 60
            while not mid_batch(victim) and time.monotonic() < deadline:
                time.sleep(0.01)
            held = self._held_by(victim)
            victim.process.send_signal(signal.SIGKILL if kind == "worker_sigkill" else signal.SIGTERM)
            killed = time.monotonic()
            victim.process.wait(timeout=300)
            live[index] = self.workers.start(node=f"tiny@soak-{number}")
            if kind == "worker_sigkill" and held:
                self.ledger.wait(self.visibility_timeout_s + 60, ids=held)
                self.held_answered.append(time.monotonic() - killed)
                print(f"  the {len(held)} messages it held answered {self.held_answered[-1]:.1f}s after the kill")
        elif kind == "redis_kill":
            self.redis.kill()
            time.sleep(1)
            self.redis.start()
        elif kind == "redis_down_publish":
            self.redis.kill()
            time.sleep(3)  # the producer keeps publishing: it is refused, typed, and sends again later
            self.redis.start()
        else:
            long = not any(r["fault"] == "redis_pause" for r in self.recoveries)
            self.redis.pause()
            time.sleep(self.long_pause_s if long else 5)
            self.redis.resume()
        return time.monotonic()

    def _held_by(self, worker: WorkerProcess) -> list[str]:
        """Task ids of the unanswered messages ``worker`` holds, from its owned hash (its process id ends the key)."""
        client = self.redis.client(socket_timeout=5)
        ids = []
        for key in client.scan_iter(f"{OWNED_KEY_PREFIX}*-{worker.process.pid}"):
            for entry in client.hvals(key):
                message = json.loads(entry.split(b"\n", 2)[2])  # queue, delivery time, message
                ids.append(str(message["headers"]["id"]))
        answered = self.ledger.finals(ids)  # stored, but their ack was lost to a Redis outage: nothing to wait for
        return [task_id for task_id in ids if task_id in self.ledger.sent and task_id not in answered]

    def _sample(self) -> None:
        while self.faulting.is_set():
            self.samples.append((time.monotonic(), self._answered()))
            time.sleep(0.5)

    def _rate(self, start: float, end: float) -> float:
        inside = [count for at, count in self.samples if start <= at <= end]
        return (inside[-1] - inside[0]) / (end - start) if len(inside) > 1 else 0.0

    def _back_to_normal(self, began: float, ended: float) -> float:
        """Seconds from the end of a fault until 10 s of answers run at 80% of the 8 s before it, or more."""
        baseline = self._rate(began - 8, began)
        deadline = ended + 300
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now - ended >= 10 and self._rate(now - 10, now) >= 0.8 * baseline:
                return now - 10 - ended
            time.sleep(0.5)
        return float("inf")

    def _answered(self) -> int:
        return sum(1 for stores in list(self.ledger.stores.values()) if stores)

    def _recovery(self, before: int, ended: float) -> float:
        """Seconds from the end of a fault to the next answered task (the producer never stops meanwhile)."""
        deadline = ended + 300
        while self._answered() <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        return time.monotonic() - ended

    def _summary(self, report: object, seconds: float) -> dict[str, object]:
        from tests.faults.ledger import Report

        assert isinstance(report, Report)
        by_kind: dict[str, list[float]] = {}
        normal: dict[str, list[float]] = {}
        for entry in self.recoveries:
            by_kind.setdefault(str(entry["fault"]), []).append(float(entry["recovery_s"]))  # type: ignore[arg-type]
            normal.setdefault(str(entry["fault"]), []).append(float(entry["back_to_normal_s"]))  # type: ignore[arg-type]
        return {
            "machine": machine(),
            "tasks": report.sent,
            "faults": len(self.recoveries),
            "lost": len(report.lost),
            "duplicated": len(report.duplicated),
            "unexpected": len(report.unexpected),
            "dead_lettered": len(report.dead_lettered),
            "dead_letters_unaccounted": len(report.dead_letters_unaccounted),
            "redelivered": report.redelivered,
            "restored_same_answer": len(report.restored),
            "outcomes": report.outcomes,
            "recovery_s": {
                kind: {"count": len(v), "median": round(statistics.median(v), 1), "max": round(max(v), 1)}
                for kind, v in by_kind.items()
            },
            "back_to_normal_s": {
                kind: {"median": round(statistics.median(v), 1), "max": round(max(v), 1)} for kind, v in normal.items()
            },
            "visibility_timeout_s": self.visibility_timeout_s,
            "worker_dead_after_s": self.dead_after_s,
            "held_by_killed_worker_answered_s": {
                "count": len(self.held_answered),
                "median": round(statistics.median(self.held_answered), 1) if self.held_answered else None,
                "max": round(max(self.held_answered), 1) if self.held_answered else None,
            },
            "wall_s": round(seconds),
            "lost_ids": report.lost,
            "duplicated_ids": report.duplicated,
        }


def machine() -> str:
    """CPU model and count, memory, OS and Python: the machine a figure was measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line), "0"
    )
    cpus = len([line for line in cpuinfo.splitlines() if line.startswith("processor")])
    return (
        f"{model}, {cpus} vCPU, {int(memory) / 2**20:.0f} GiB, {platform.system()}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--faults", type=int, default=20)
    parser.add_argument("--long-pause", type=float, default=30.0, help="seconds of the first Redis SIGSTOP")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0, help="SLMQ_TASK_TIME_LIMIT_S (visibility: 4x+10)")
    parser.add_argument("--dead-after", type=float, default=30.0, help="SLMQ_WORKER_DEAD_AFTER_S")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slmq-soak-") as scratch:
        summary = Soak(Path(scratch), args).run()
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
