"""`slmq worker --threads N` reaches the worker, and the local worker a command starts for itself takes every core."""

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from slmq.cli import spawn
from slmq.cli.main import _parser, main
from slmq.fleet import load_fleet
from slmq.settings import Settings
from tests.conftest import REPO


def test_threads_is_a_positive_whole_number_and_unset_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert _parser().parse_args(["worker", "--model", "smollm2", "--threads", "3"]).threads == 3
    assert _parser().parse_args(["worker", "--model", "smollm2"]).threads is None
    for bad in ("0", "-2", "two"):
        with pytest.raises(SystemExit) as exited:
            _parser().parse_args(["worker", "--model", "smollm2", "--threads", bad])
        assert exited.value.code == 2
        assert "argument --threads: must be" in capsys.readouterr().err


def test_the_worker_command_passes_threads_to_run_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    import workers.main

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(workers.main, "run_worker", lambda settings, model, **options: calls.append(options))
    assert main(["worker", "--model", "smollm2", "--threads", "3"]) == 0
    assert main(["worker", "--model", "smollm2", "--device", "cpu"]) == 0
    assert calls == [
        {"device": None, "node_name": None, "threads": 3},
        {"device": "cpu", "node_name": None, "threads": None},
    ]


def test_a_local_worker_started_for_one_command_gets_every_core_it_may_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given no worker on the queue, and process start-up replaced by a recorder
    commands: list[list[str]] = []

    class Started:
        def __init__(self, command: list[str], **_: Any) -> None:
            commands.append(command)

    monkeypatch.setattr(spawn, "consumers", lambda app, queue: [])
    monkeypatch.setattr(subprocess, "Popen", Started)
    monkeypatch.setattr(spawn, "_wait_until_ready", lambda *args: None)
    monkeypatch.setattr(spawn, "_stop", lambda process: None)
    spec = load_fleet(REPO / "fleet.toml").model("gemma3-notes")
    settings = Settings(home=tmp_path, fleet=REPO / "fleet.toml")
    app: Any = None  # only handed to consumers(), replaced above
    # When a command starts its local worker
    with spawn.local_worker(app, settings, spec, "redis://x"):
        pass
    # Then the worker is told to use as many torch threads as there are cores this process may run on
    (command,) = commands
    assert command[command.index("--threads") + 1] == str(len(os.sched_getaffinity(0)))
    assert command[command.index("--model") + 1] == "gemma3-notes"
