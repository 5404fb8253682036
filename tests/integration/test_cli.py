"""The slmq command against a real Redis: parse and submit start a local worker when none runs."""

import json
from pathlib import Path

from tests.integration.conftest import Deployment, StartWorker

LINES = [
    json.dumps({"id": "a", "text": "I love how fast this arrived"}),
    "this line is not JSON",
    json.dumps({"id": "c", "note": "no text field"}),
    json.dumps({"id": "d", "text": "The box was crushed and the cups broken"}),
    json.dumps({"id": "e", "text": ""}),
]


def test_parse_spawns_a_worker_and_writes_one_record_per_input_line(deployment: Deployment, tmp_path: Path) -> None:
    # Given a file with good lines and bad ones, and no worker running
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(LINES) + "\n")
    # When it is parsed
    done = deployment.cli("parse", str(source), "-o", str(target), "--task", "sentiment")
    # Then every line has a record, in order, with exactly one of result and error
    assert done.returncode == 0, done.stderr
    assert "starting a local worker" in done.stderr
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["id"] for r in records] == ["a", "line-2", "c", "d", "e"]
    for record in records:
        assert (record["result"] is None) != (record["error"] is None)
        assert (record["task"], record["model"]) == ("sentiment", "tiny")
    assert records[0]["result"]["label"] in {"positive", "negative", "neutral"}
    assert records[3]["result"]["label"] in {"positive", "negative", "neutral"}
    assert [records[i]["error"]["type"] for i in (1, 2, 4)] == ["InvalidPayloadError"] * 3
    assert "Line 2 is not JSON" in records[1]["error"]["message"]
    assert "5 lines, 2 parsed, 3 failed" in done.stderr


def test_submit_reads_stdin_and_prints_the_result_as_json(deployment: Deployment) -> None:
    done = deployment.cli("submit", "general", "-", input="What is a pallet?")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answer"]


def test_submit_refuses_an_unknown_task_type_without_starting_anything(deployment: Deployment) -> None:
    done = deployment.cli("submit", "sentimnt", "hello")
    assert done.returncode == 1
    assert "UnknownTaskTypeError: Unknown task type 'sentimnt'; known task types:" in done.stderr
    assert "starting a local worker" not in done.stderr


def test_status_shows_workers_models_devices_and_queue_depths(
    deployment: Deployment, start_worker: StartWorker
) -> None:
    worker = start_worker("tiny", node="tiny@cpu")
    try:
        done = deployment.cli("status")
    finally:
        worker.stop()
    assert done.returncode == 0, done.stderr
    assert any(line.split()[:4] == ["tiny@cpu", "tiny", "cpu", "slmq.tiny"] for line in done.stdout.splitlines())
    depths = {line.split()[0]: line.split()[2] for line in done.stdout.splitlines() if line.startswith("slmq.")}
    assert set(depths) == {"slmq.tiny", "slmq.tiny-notes"}
    assert depths["slmq.tiny"] == "0"


def test_submit_without_a_worker_and_without_spawning_times_out_clearly(deployment: Deployment) -> None:
    """Runs last in this module: its message stays queued."""
    done = deployment.cli("submit", "general", "hello", "--no-spawn", "--timeout", "2")
    assert done.returncode == 1
    assert "ResultTimeoutError" in done.stderr and "slmq status" in done.stderr
