"""Batch jobs and scheduled pipelines against a real Redis, real tiny-model workers and real beat processes."""

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from producer import FleetClient
from slmq.batchfile import detect_format, job_id, read_lines
from slmq.constants import METRICS_KEY
from slmq.errors import JobStateError
from slmq.stores.broker import create_app
from slmq.stores.jobstore import JobStatus
from slmq.stores.metrics import parse_samples
from tests.integration.conftest import READY_TIMEOUT_S, Deployment, StartWorker, WorkerProcess, make_deployment

TIMEOUT_S = 180
JOBS_FLEET = """
[models.tiny]
source = "path:{model_dir}"
quantization = "{quantization}"
max_batch = 8
max_wait_ms = 50
max_new_tokens = 8
context_limit = 512

[models.other]
source = "path:{model_dir}"
quantization = "{quantization}"

[tasks.sentiment]
model = "{sentiment_model}"

[tasks.general]
model = "tiny"

[pipelines.inbox]
schedule = 1
source = "{inbox}"
task = "sentiment"
output = "{outbox}"
"""
WORDS = ["arrived", "late", "crushed", "on time", "perfect", "missing", "wet", "early"]


def note(n: int) -> str:
    return f"Delivery {n} {WORDS[n % len(WORDS)]}: {n % 7 + 1} pallets for dock {n % 5}."


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def notes_file(path: Path, count: int) -> Path:
    return write_jsonl(path, [json.dumps({"id": f"n{n}", "text": note(n)}) for n in range(count)])


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pipeline")
    return {"inbox": base / "inbox", "outbox": base / "out"}


def fleet_template(folders: dict[str, Path], sentiment_model: str) -> str:
    return (
        JOBS_FLEET.replace("{inbox}", str(folders["inbox"]))
        .replace("{outbox}", str(folders["outbox"]))
        .replace("{sentiment_model}", sentiment_model)
    )


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, module_redis_url: str, tiny_model_dir: Path, folders: dict[str, Path]
) -> Deployment:
    template = fleet_template(folders, "tiny")
    return make_deployment(tmp_path_factory.mktemp("jobs"), module_redis_url, tiny_model_dir, "none", template)


@pytest.fixture(scope="module")
def serving(start_worker: StartWorker) -> Callable[[], WorkerProcess]:
    """Starts the worker that serves sentiment the first time a test needs it; later tests share it."""
    started: list[WorkerProcess] = []

    def ensure() -> WorkerProcess:
        if not started:
            started.append(start_worker("tiny", node="tiny@jobs"))
        return started[0]

    return ensure


@pytest.fixture
def store(deployment: Deployment) -> redis.Redis:
    return redis.Redis.from_url(deployment.env["SLMQ_BROKER_URL"])


def submitted_id(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[0]


def status(deployment: Deployment, job: str) -> dict[str, Any]:
    done = deployment.cli("job", "status", job)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def results(deployment: Deployment, job: str, target: Path) -> list[dict[str, Any]]:
    done = deployment.cli("job", "results", job, "-o", str(target))
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in target.read_text().splitlines()]


def answered(client: redis.Redis, task_type: str = "sentiment") -> float:
    """Messages of ``task_type`` the workers answered, from the fleet metrics they write."""
    samples = parse_samples(client.hgetall(METRICS_KEY))
    return sum(v for (name, labels), v in samples.items() if name == "slmq_tasks" and task_type in labels)


def test_a_failed_line_runs_again_with_job_retry_once_the_cause_is_fixed(
    deployment: Deployment, tmp_path: Path, tiny_model_dir: Path, folders: dict[str, Path],
    serving: Callable[[], WorkerProcess],
) -> None:  # fmt: skip
    """Runs first: the misconfigured worker must be alone on the queue."""
    # Given a worker on the sentiment queue whose own fleet file says it does not serve sentiment
    (tmp_path / "wrong").mkdir()
    wrong = make_deployment(tmp_path / "wrong", deployment.env["SLMQ_BROKER_URL"], tiny_model_dir, "none",
                            fleet_template(folders, "other"))  # fmt: skip
    log = tmp_path / "wrong.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "slmq", "worker", "--model", "tiny", "--node-name", "tiny@wrong"],
            env={**wrong.env, "SLMQ_HOME": deployment.env["SLMQ_HOME"]}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    misconfigured = WorkerProcess(process, "tiny@wrong", log)
    try:
        app = create_app(deployment.settings())
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not app.control.ping(destination=["tiny@wrong"], timeout=0.5):
            assert process.poll() is None and time.monotonic() < deadline, misconfigured.output()[-2000:]
        # When a job runs there, every line fails
        source = notes_file(tmp_path / "notes.jsonl", 12)
        job = submitted_id(deployment.cli("job", "submit", str(source), "--task", "sentiment", "--wait", "--no-spawn"))
        failed = status(deployment, job)
        assert (failed["state"], failed["done"], failed["failed"]) == ("finished", 0, 12)
        assert failed["failures_by_type"] == {"TaskNotServedError": 12}
    finally:
        misconfigured.stop()
    # And once a correctly configured worker serves the queue, `job retry` runs the failed lines again
    serving()
    retried = deployment.cli("job", "retry", job, "--wait", "--no-spawn")
    assert retried.returncode == 0, retried.stderr
    assert "12 failed lines of job" in retried.stderr
    # Then every line has a result, and the failures are gone from the counts
    final = status(deployment, job)
    assert (final["state"], final["done"], final["failed"], final["failures_by_type"]) == ("finished", 12, 0, {})
    records = results(deployment, job, tmp_path / "out.jsonl")
    assert [r["id"] for r in records] == [f"n{n}" for n in range(12)]
    assert all(r["error"] is None and r["result"]["label"] for r in records)
    assert {r["provenance"]["worker"] for r in records} == {"tiny@jobs"}


def test_a_job_of_three_hundred_lines_has_one_record_per_line_in_order_with_provenance(
    deployment: Deployment, tmp_path: Path, serving: Callable[[], WorkerProcess]
) -> None:
    # Given a file of 300 notes with two lines that cannot be payloads
    serving()
    lines = [json.dumps({"id": f"n{n}", "text": note(n)}) for n in range(298)]
    lines[100:100] = ["not json at all"]
    lines[200:200] = [json.dumps({"id": "empty", "text": ""})]
    source = write_jsonl(tmp_path / "notes.jsonl", lines)
    # When it is submitted (returning at once) and watched until it finishes
    job = submitted_id(deployment.cli("job", "submit", str(source), "--task", "sentiment", "--no-spawn"))
    watched = deployment.cli("job", "watch", job, timeout=TIMEOUT_S)
    # Then the summary counts records and failures by type, and the output has one record per line, in order
    assert watched.returncode == 0, watched.stderr
    assert f"job {job} finished: 300 records, 298 done, 2 failed (InvalidPayloadError: 2)" in watched.stderr
    records = results(deployment, job, tmp_path / "out.jsonl")
    assert len(records) == 300
    assert [r["line"] for r in records] == list(range(300))
    assert records[100]["id"] == "line-101" and "not JSON" in records[100]["error"]["message"]
    assert records[200]["id"] == "empty" and records[200]["error"]["type"] == "InvalidPayloadError"
    good = [r for r in records if r["error"] is None]
    assert [r["id"] for r in good] == [f"n{n}" for n in range(298)]
    provenance = good[0]["provenance"]
    assert provenance["model"] == "tiny" and provenance["quantization"] == "none"
    assert provenance["worker"] == "tiny@jobs" and provenance["device"] == "cpu"
    assert provenance["schema_version"] == 1 and len(provenance["prompt_version"]) == 12
    assert provenance["duration_s"] > 0
    assert records[100]["provenance"]["refused_by"] == "producer"


def test_killing_the_submitter_half_way_and_submitting_again_redoes_no_finished_line(
    deployment: Deployment, tmp_path: Path, store: redis.Redis, serving: Callable[[], WorkerProcess]
) -> None:
    # Given a job of 240 lines fed by a foreground submitter
    serving()
    source = notes_file(tmp_path / "big.jsonl", 240)
    before = answered(store)
    command = [sys.executable, "-m", "slmq", "job", "submit", str(source), "--task", "sentiment", "--wait", "--quiet"]
    submitter = subprocess.Popen([*command, "--no-spawn"], env=deployment.env, stdout=subprocess.PIPE, text=True)
    assert submitter.stdout is not None
    job = submitter.stdout.readline().strip()

    # When it is killed (SIGKILL: no clean-up) once some lines are done
    def some_lines_done() -> bool:
        assert submitter.poll() is None, "the submitter exited before it was killed"
        return int(store.hget(f"slmq.job.{job}", "done") or 0) >= 40

    wait_for(some_lines_done, poll_s=0.02)
    submitter.kill()
    submitter.wait(timeout=30)
    at_kill = status(deployment, job)
    assert 40 <= at_kill["done"] < 240, "the job finished before the submitter was killed"
    # And the same file is submitted again
    again = deployment.cli(
        "job", "submit", str(source), "--task", "sentiment", "--wait", "--no-spawn", timeout=TIMEOUT_S
    )
    # Then it is the same job, it finishes, and every line has exactly one record, in order
    assert submitted_id(again) == job
    final = status(deployment, job)
    assert (final["state"], final["done"], final["failed"], final["runs"]) == ("finished", 240, 0, 2)
    records = results(deployment, job, tmp_path / "out.jsonl")
    assert [r["id"] for r in records] == [f"n{n}" for n in range(240)]
    # And the workers answered each line once, bar the window that was in flight when the submitter died
    window = FleetClient(deployment.settings()).default_window("sentiment")
    assert 240 <= answered(store) - before <= 240 + window


def test_an_openai_batch_file_round_trips_in_the_openai_output_format(
    deployment: Deployment, tmp_path: Path, serving: Callable[[], WorkerProcess]
) -> None:
    # Given an OpenAI batch input file (chat completions), one request without a user message
    serving()
    requests = [
        {"custom_id": f"req-{n}", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "Classify."},
                                                      {"role": "user", "content": note(n)}]}}
        for n in range(5)
    ]  # fmt: skip
    requests[2]["body"]["messages"][1]["content"] = [{"type": "text", "text": note(2)}]
    requests.append({"custom_id": "req-nouser", "method": "POST", "url": "/v1/chat/completions",
                     "body": {"messages": [{"role": "system", "content": "hi"}]}})  # fmt: skip
    source = write_jsonl(tmp_path / "batch.jsonl", [json.dumps(r) for r in requests])
    # When it runs as a job from Python
    job = FleetClient(deployment.settings()).submit_job(source, "sentiment")
    assert job.wait(timeout=TIMEOUT_S).done == 5
    records = list(job.results())
    # Then the output is OpenAI's batch output format, one line per request, in order
    assert [r["custom_id"] for r in records] == [f"req-{n}" for n in range(5)] + ["req-nouser"]
    for record in records[:5]:
        assert record["error"] is None and record["response"]["status_code"] == 200
        body = record["response"]["body"]
        assert body["object"] == "chat.completion" and body["model"] == "tiny"
        assert json.loads(body["choices"][0]["message"]["content"])["label"] in {"positive", "negative", "neutral"}
    assert records[5]["response"] is None and records[5]["error"]["code"] == "InvalidPayloadError"


def test_a_cancelled_job_stops_feeding_and_resume_runs_the_rest(
    deployment: Deployment, tmp_path: Path, serving: Callable[[], WorkerProcess]
) -> None:
    # Given a job of 160 lines fed from Python, with a window of 8
    serving()
    job = FleetClient(deployment.settings()).submit_job(notes_file(tmp_path / "c.jsonl", 160), "sentiment", window=8)
    wait_for(lambda: job.status().done >= 16)
    # When it is cancelled
    cancelled = deployment.cli("job", "cancel", job.id)
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stderr
    # Then its feeder stops, waiting for it says so, and the lines already queued still finish
    job.join()
    with pytest.raises(JobStateError, match="cancelled"):
        job.wait(timeout=TIMEOUT_S)
    wait_for(lambda: job.store.client.llen("slmq.tiny") == 0 and job.status().done == job.feeder.sent)
    stopped = job.status()
    assert stopped.state == "cancelled" and stopped.done < 160
    # And resuming it runs the rest, once
    resumed = deployment.cli("job", "resume", job.id, "--wait", "--no-spawn", timeout=TIMEOUT_S)
    assert resumed.returncode == 0, resumed.stderr
    final = job.status()
    assert (final.state, final.done, final.failed, final.runs) == ("finished", 160, 0, 2)


@pytest.fixture
def beats(deployment: Deployment) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    app = create_app(deployment.settings())
    for n in range(2):
        log = (deployment.home / f"beat-{n}.log").open("wb")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "slmq", "beat", "--node-name", f"beat-{n}@test"],
            env=deployment.env, stdout=log, stderr=subprocess.STDOUT,
        ))  # fmt: skip
    deadline = time.monotonic() + READY_TIMEOUT_S
    for n, process in enumerate(processes):
        while not app.control.ping(destination=[f"beat-{n}@test"], timeout=0.5):
            assert process.poll() is None and time.monotonic() < deadline, f"beat-{n} did not start"
    yield processes
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def drop(path: Path, text: str) -> Path:
    """Write a file into the inbox the way a producer should: under a partial name, then renamed in."""
    partial = path.with_name(path.name + ".part")
    partial.write_text(text)
    return partial.rename(path)


def wait_for(condition: Callable[[], bool], timeout: float = TIMEOUT_S, poll_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(poll_s)


def test_the_inbox_pipeline_processes_each_dropped_file_exactly_once_with_two_beat_processes(
    deployment: Deployment, folders: dict[str, Path], store: redis.Redis, tmp_path: Path,
    serving: Callable[[], WorkerProcess], beats: list[subprocess.Popen[bytes]],
) -> None:  # fmt: skip
    # Given two beat processes ticking the inbox pipeline every second, and a worker
    serving()
    inbox, outbox = folders["inbox"], folders["outbox"]
    inbox.mkdir(parents=True, exist_ok=True)
    before = answered(store)
    # When three note files and an empty one are dropped into the inbox
    files = {"a.jsonl": 30, "b.jsonl": 20}
    texts = {name: "".join(json.dumps({"id": f"{name}-{n}", "text": note(n + 1000 * len(name))}) + "\n"
                           for n in range(count)) for name, count in files.items()}  # fmt: skip
    texts["c.txt"] = "Two crates of lemons arrived crushed at dock 4."
    for name, text in texts.items():
        drop(inbox / name, text)
    drop(inbox / "empty.jsonl", "")
    # (and ticks arrive twice more, as a re-delivered pipeline task would)
    app = create_app(deployment.settings())
    for _ in range(2):
        app.send_task("slmq.beat.pipeline", args=("inbox",), queue="slmq.beat.pipelines")
    wait_for(lambda: len(list((inbox / "done").glob("*"))) == 3 and (inbox / "failed" / "empty.jsonl").exists())
    # Then each file was processed once: moved to done/, results written, its job submitted once
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["a.jsonl", "b.jsonl", "c.txt"]
    assert not [p for p in inbox.iterdir() if p.is_file()]
    for name, count in {**files, "c.txt": 1}.items():
        records = [json.loads(line) for line in (outbox / f"{Path(name).stem}.results.jsonl").read_text().splitlines()]
        assert len(records) == count and all(r["error"] is None for r in records)
        done_file = inbox / "done" / name
        identity, _ = job_id("sentiment", read_lines(done_file, detect_format(done_file), {"text"}))
        job: JobStatus = FleetClient(deployment.settings()).job(identity).status()
        assert (job.state, job.runs, job.source) == ("finished", 1, str(done_file))
    assert answered(store) - before == 51
    # And the unreadable file moved to failed/ with the reason beside it
    reason = (inbox / "failed" / "empty.jsonl.error.txt").read_text()
    assert reason.startswith("InputFormatError:") and "empty" in reason
    logs = "".join((deployment.home / f"beat-{n}.log").read_text() for n in range(2))
    assert sum(line.count("Pipeline inbox: a.jsonl ->") for line in logs.splitlines()) == 1
