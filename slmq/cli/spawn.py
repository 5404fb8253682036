"""A local worker for commands run where no worker consumes the queue they need."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from celery import Celery

from slmq.constants import DEFAULT_NODE_TEMPLATE
from slmq.errors import WorkerStartError
from slmq.fleet import ModelSpec
from slmq.settings import Settings

STOP_TIMEOUT_S = 120.0


def consumers(app: Celery, queue: str, timeout: float = 1.0) -> list[str]:
    """Names of the workers that consume ``queue`` now."""
    replies = app.control.inspect(timeout=timeout).active_queues() or {}
    return sorted(node for node, queues in replies.items() if any(q.get("name") == queue for q in queues))


@contextlib.contextmanager
def local_worker(app: Celery, settings: Settings, spec: ModelSpec, broker_url: str) -> Iterator[None]:
    """Start ``slmq worker --model <spec>`` unless one already consumes its queue; stop it on exit."""
    if consumers(app, spec.queue):
        yield
        return
    node = f"{DEFAULT_NODE_TEMPLATE.format(model=spec.name, device=spec.device)}-{os.getpid()}"
    log_path = settings.home / "logs" / f"{node}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"slmq: starting a local worker {node} (log: {log_path}); the first start fetches the model.", file=sys.stderr
    )
    env = {
        **os.environ,
        "SLMQ_BROKER_URL": broker_url,
        "SLMQ_FLEET": str(settings.fleet.resolve()),
        "SLMQ_HOME": str(settings.home.resolve()),
    }
    # The one worker this command starts, for itself: it takes every core this process may run on.
    threads = str(len(os.sched_getaffinity(0)))
    command = [sys.executable, "-m", "slmq", "worker", "--model", spec.name, "--node-name", node, "--threads", threads]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_until_ready(app, node, process, settings.worker_ready_timeout_s, log_path)
        yield
    finally:
        _stop(process)


def _wait_until_ready(app: Celery, node: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise WorkerStartError(
                f"The local worker exited with code {process.returncode} before it was ready; "
                f"last lines of {log}: " + " | ".join(tail)
            )
        if app.control.ping(destination=[node], timeout=0.5):
            return
        time.sleep(0.5)
    raise WorkerStartError(
        f"The local worker was not ready within {timeout:.0f}s (SLMQ_WORKER_READY_TIMEOUT_S); see {log}."
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # warm shutdown: finishes the task in hand, returns the rest
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def worker_for(client: Any, task_type: str, no_spawn: bool) -> Iterator[None]:
    """A local worker for ``task_type``'s model while the block runs (a FleetClient's fleet and broker), unless
    one already consumes its queue or ``no_spawn`` says never to start one."""
    if no_spawn:
        yield
        return
    spec = client.fleet.model_for(task_type)
    with local_worker(client.app, client.settings, spec, client.app.conf.broker_url):
        yield
