"""Real worker processes on the tiny model, against a real Redis database of the test's own."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from slmq.settings import Settings
from slmq.stores.broker import create_app

TINY_FLEET = """
[models.tiny]
source = "path:{model_dir}"
quantization = "{quantization}"
max_batch = 4
max_new_tokens = 24
context_limit = 512

[models.tiny-notes]
source = "path:{model_dir}"
quantization = "{quantization}"
max_batch = 4
max_new_tokens = 48
context_limit = 512

[tasks.delivery_note]
model = "tiny-notes"

[tasks.sentiment]
model = "tiny"

[tasks.summarize]
model = "tiny"

[tasks.refactor_python]
model = "tiny"

[tasks.general]
model = "tiny"
"""
READY_TIMEOUT_S = 120.0


def write_fleet(directory: Path, model_dir: Path, quantization: str, template: str) -> Path:
    path = directory / "fleet.toml"
    path.write_text(template.format(model_dir=model_dir, quantization=quantization))
    return path


@dataclass
class Deployment:
    """The environment a test's producers and workers share."""

    env: dict[str, str]
    home: Path

    def settings(self) -> Settings:
        return Settings(broker_url=self.env["SLMQ_BROKER_URL"], fleet=Path(self.env["SLMQ_FLEET"]), home=self.home)

    def cli(self, *args: str, timeout: float = 300, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "slmq", *args], env=self.env, capture_output=True, text=True,
            timeout=timeout, input=input,
        )  # fmt: skip


def make_deployment(
    tmp: Path, redis_url: str, model_dir: Path, quantization: str = "nf4", fleet: str = TINY_FLEET
) -> Deployment:
    """Settings for producers and workers of one test module: its Redis database, fleet file and home."""
    home = tmp / "home"
    env = {
        **os.environ,
        "SLMQ_BROKER_URL": redis_url,
        "SLMQ_FLEET": str(write_fleet(tmp, model_dir, quantization, fleet)),
        "SLMQ_HOME": str(home),
        "PYTHONUNBUFFERED": "1",
    }
    return Deployment(env, home)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, module_redis_url: str, tiny_model_dir: Path) -> Deployment:
    """The tiny fleet; a module may override this fixture with a fleet of its own."""
    return make_deployment(tmp_path_factory.mktemp("deployment"), module_redis_url, tiny_model_dir)


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    node: str
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


StartWorker = Callable[..., WorkerProcess]


@pytest.fixture(scope="module")
def start_worker(deployment: Deployment) -> Iterator[StartWorker]:
    """Start ``slmq worker`` processes and wait until each answers; every one is stopped at the end."""
    started: list[WorkerProcess] = []
    app = create_app(deployment.settings())

    def start(model: str = "tiny", node: str | None = None) -> WorkerProcess:
        node = node or f"{model}@cpu-{len(started)}"
        log = deployment.home / f"{node}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "slmq", "worker", "--model", model, "--node-name", node],
                env=deployment.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        worker = WorkerProcess(process, node, log)
        started.append(worker)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker {node} did not start:\n{worker.output()[-3000:]}")
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()
