"""Fault tests: a redis-server of the test's own (append-only, own port and directory) and real workers.

Every helper here drives real processes: ``redis-server`` is killed, paused and restarted on its own
data directory, and ``slmq worker`` processes are killed with real signals.
"""

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from producer import FleetClient
from slmq.constants import attempts_key
from slmq.stores.broker import create_app
from tests.faults.ledger import Ledger
from tests.integration.conftest import Deployment, WorkerProcess, make_deployment

READY_TIMEOUT_S = 180.0
MID_BATCH_TIMEOUT_S = 60.0
# Short limits so a killed worker's messages come back within seconds: the visibility timeout derived
# from them is 2 x (2 x 2 s) + 10 s = 18 s, and kombu sweeps for expired messages every second.
FAULT_ENV = {"SLMQ_TASK_TIME_LIMIT_S": "2", "SLMQ_MAX_ATTEMPTS": "2", "SLMQ_BROKER_TIMEOUT_S": "3"}
FAULT_FLEET = """
[models.tiny]
source = "path:{model_dir}"
quantization = "{quantization}"
max_batch = 4
max_wait_ms = 50
max_new_tokens = 12
context_limit = 512

[tasks.summarize]
model = "tiny"

[tasks.general]
model = "tiny"
"""
# The endless model never ends a generation by itself: `general` and `delivery_note` (up to 2,000 new
# tokens) run until the time limit stops them; `summarize` stops at 12 tokens.
ENDLESS_FLEET = """
[models.tiny]
source = "path:{model_dir}"
quantization = "{quantization}"
max_batch = 4
max_wait_ms = 50
max_new_tokens = 12
context_limit = 16384

[tasks.summarize]
model = "tiny"

[tasks.general]
model = "tiny"
max_new_tokens = 2000

# Unconstrained, so nothing but the time limit ends it: a grammar would close the record within the budget,
# and 8,000 tokens take the tiny model well over the 2 s limit even on a fast, quiet machine.
[tasks.delivery_note]
model = "tiny"
max_new_tokens = 8000
constrained = false
reasks = 0
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server on loopback with append-only persistence (fsync on every write) in ``directory``."""

    directory: Path
    port: int = field(default_factory=free_port)
    args: tuple[str, ...] = ()
    url_auth: str = ""  # "user:password@" or ":password@"
    scheme: str = "redis"
    url_query: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.url_auth}127.0.0.1:{self.port}/0{self.url_query}"

    def start(self, timeout: float = 15.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("the fault tests need redis-server on PATH (apt-get install redis-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction",
            "--logfile", str(self.directory / "redis.log"), *self.args,
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, timeout, f"redis-server on port {self.port} did not start; see {self.directory}")

    def answers(self) -> bool:
        try:
            return bool(self.client(socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def client(self, **options: object) -> redis.Redis:
        return redis.Redis.from_url(self.url, **options)  # type: ignore[arg-type]

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=30)


def wait_for(condition: Callable[[], object], timeout: float, message: str, poll: float = 0.1) -> None:
    """Poll ``condition`` until it is true; fail with ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(poll)


@pytest.fixture(scope="module")
def redis_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this module's own; stopped at the end."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


def fault_deployment(tmp: Path, url: str, model_dir: Path, fleet: str = FAULT_FLEET, **env: str) -> Deployment:
    """The tiny fleet on ``url`` with the short fault-test limits (and any ``SLMQ_*`` overrides in ``env``)."""
    tmp.mkdir(parents=True, exist_ok=True)
    deployment = make_deployment(tmp, url, model_dir, "none", fleet)
    deployment.env.update(FAULT_ENV)
    deployment.env.update(env)
    return deployment


class Workers:
    """Starts ``slmq worker`` processes on one deployment; every one is killed at the end."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.started: list[WorkerProcess] = []

    def start(self, model: str = "tiny", node: str | None = None, wait: bool = True) -> WorkerProcess:
        node = node or f"{model}@fault-{len(self.started)}"
        log = self.deployment.home / f"{node}-{len(self.started)}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "slmq", "worker", "--model", model, "--node-name", node],
                env=self.deployment.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        worker = WorkerProcess(process, node, log)
        self.started.append(worker)
        if wait:
            self.wait_ready(worker)
        return worker

    def wait_ready(self, worker: WorkerProcess) -> None:
        # The model is loaded and the queue consumed once the worker logs its model line and answers a ping.
        app = create_app(self.deployment.settings())
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not app.control.ping(destination=[worker.node], timeout=0.5):
            if worker.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker {worker.node} did not start:\n{worker.output()[-3000:]}")

    def kill_all(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()


@pytest.fixture(scope="module")
def workers_for() -> Iterator[Callable[[Deployment], Workers]]:
    """A factory of worker sets, one per deployment; all killed at the end of the module."""
    sets: list[Workers] = []

    def make(deployment: Deployment) -> Workers:
        sets.append(Workers(deployment))
        return sets[-1]

    yield make
    for workers in sets:
        workers.kill_all()


def texts(tag: str, count: int) -> list[str]:
    """Distinct short reports, so every task has its own answer."""
    return [f"{tag} report {n}: consignment {n * 13} left depot {n % 7} at {n % 24}:00." for n in range(count)]


def running_batch(worker: WorkerProcess) -> list[str]:
    """The task ids of the batch the worker has started and not answered yet (its log says so), else []."""
    lines = worker.output().splitlines()
    started = [line for line in lines if "Batch started" in line]
    if len(started) <= sum("Answered a batch" in line for line in lines):
        return []
    return started[-1].split(" tasks ", 1)[-1].split()


def mid_batch(worker: WorkerProcess) -> bool:
    """The worker has started a batch it has not answered yet."""
    return bool(running_batch(worker))


def kill_mid_batch(worker: WorkerProcess, sig: int, client: redis.Redis) -> None:
    """Send ``sig`` to ``worker`` while the model runs a batch: once an attempt of it is counted in Redis.

    "Batch started" is logged before the worker reads and counts the batch's attempts; a signal in between
    would leave no trace that the killed worker had the messages in hand.
    """

    def model_runs() -> bool:
        ids = running_batch(worker)
        return bool(ids) and any(client.exists(attempts_key(task_id)) for task_id in ids)

    wait_for(model_runs, MID_BATCH_TIMEOUT_S, f"{worker.node} never ran a batch", poll=0.01)
    worker.process.send_signal(sig)


@pytest.fixture(scope="module")
def workers(deployment: Deployment, workers_for: Callable[[Deployment], Workers]) -> Workers:
    """The module's worker set, none started (a module may override it to start some)."""
    return workers_for(deployment)


@pytest.fixture
def ledger(deployment: Deployment, redis_proc: RedisServer) -> Iterator[Ledger]:
    """A ledger of the tasks the test sends to slmq.tiny on the module's deployment."""
    ledger = Ledger(FleetClient(deployment.settings()), redis_proc.url, "slmq.tiny")
    yield ledger
    ledger.close()


@pytest.fixture(scope="session")
def endless_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model, made never to end a generation by itself: a generation that would hang without a time limit.

    Its special tokens' embedding rows are zero, so with tied weights their logit is always 0 while the
    best of the other tokens' is positive: greedy decoding never picks an end token.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = tmp_path_factory.mktemp("endless-llama")
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        for token in (tokenizer.eos_token_id, tokenizer.pad_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")):
            model.get_input_embeddings().weight[token].zero_()
    model.config.max_position_embeddings = 16384
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)
    return target
