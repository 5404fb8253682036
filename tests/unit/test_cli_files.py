"""Every command given a file it cannot use says so in one line naming it, exits 2, and connects to nothing.

Runs the installed ``slmq`` console script. The broker URL points at a closed port and SLMQ_HOME at an empty
folder: a command that connected or started a worker before checking its files would fail differently.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SLMQ = Path(sys.executable).with_name("slmq")
MISSING = "no-such-dir/notes.jsonl"


def slmq(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLMQ_BROKER_URL": "redis://127.0.0.1:1/0", "SLMQ_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [str(SLMQ), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def assert_one_line_naming(done: subprocess.CompletedProcess[str], path: str, problem: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert path in lines[0] and problem in lines[0], lines[0]
    assert done.returncode == 2, done.stderr


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    path = tmp_path / "notes.jsonl"
    path.write_text('{"id": "a", "text": "12 pallets to Acme Ltd"}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["parse", MISSING],
        ["eval", "delivery_note", MISSING],
        ["job", "submit", MISSING],
        ["finetune", "delivery_note", "-o", "adapter", "--data", MISSING],
    ],
    ids=["parse", "eval", "job submit", "finetune --data"],
)
def test_a_missing_input_is_one_line_that_names_it(tmp_path: Path, args: list[str]) -> None:
    done = slmq(tmp_path, *args)
    assert_one_line_naming(done, MISSING, "No ")
    assert not (tmp_path / "home").exists(), "the command started something before checking its input"


@pytest.mark.parametrize(
    "args",
    [
        ["parse", "{notes}", "-o", MISSING],
        ["eval", "delivery_note", "{notes}", "-o", MISSING],
        ["synth", "delivery_note", "--count", "2", "-o", MISSING],
        ["job", "results", "some-job", "-o", MISSING],
    ],
    ids=["parse -o", "eval -o", "synth -o", "job results -o"],
)
def test_an_output_in_a_folder_that_does_not_exist_is_one_line_that_names_it(
    tmp_path: Path, notes: Path, args: list[str]
) -> None:
    done = slmq(tmp_path, *(arg.format(notes=notes) for arg in args))
    assert_one_line_naming(done, MISSING, "its folder no-such-dir does not exist")
    assert not (tmp_path / "home").exists(), "the command started something before checking its output"


def test_a_folder_given_as_a_file_to_read_or_write_is_named(tmp_path: Path, notes: Path) -> None:
    assert_one_line_naming(slmq(tmp_path, "parse", str(tmp_path)), str(tmp_path), "is a directory")
    done = slmq(tmp_path, "parse", str(notes), "-o", str(tmp_path))
    assert_one_line_naming(done, str(tmp_path), "is a directory")


def test_a_labelled_file_that_is_not_utf8_is_refused_with_the_byte_and_its_offset(tmp_path: Path) -> None:
    latin = tmp_path / "labelled.jsonl"
    latin.write_bytes('{"text": "Caf\u00e9", "gold": {}}\n'.encode("latin-1"))
    done = slmq(tmp_path, "eval", "delivery_note", str(latin))
    assert_one_line_naming(done, str(latin), "is not UTF-8 text (byte 0xe9 at offset 13)")
    done = slmq(tmp_path, "finetune", "delivery_note", "-o", "adapter", "--data", str(latin))
    assert_one_line_naming(done, str(latin), "is not UTF-8 text")


def test_finetune_names_an_init_adapter_it_cannot_use_and_an_output_it_cannot_create(
    tmp_path: Path, notes: Path
) -> None:
    done = slmq(tmp_path, "finetune", "delivery_note", "-o", "adapter", "--init-adapter", MISSING)
    assert_one_line_naming(done, MISSING, "No adapter directory at")
    done = slmq(tmp_path, "finetune", "delivery_note", "-o", "adapter", "--init-adapter", str(tmp_path))
    assert_one_line_naming(done, str(tmp_path), "adapter_model.safetensors and adapter_config.json")
    done = slmq(tmp_path, "finetune", "delivery_note", "-o", f"{notes}/adapter")
    assert_one_line_naming(done, f"{notes}/adapter", f"{notes} is a file, not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes files whatever their mode")
def test_a_file_or_folder_without_permission_is_named(tmp_path: Path, notes: Path) -> None:
    notes.chmod(0)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert_one_line_naming(slmq(tmp_path, "parse", str(notes)), str(notes), "Cannot read")
        done = slmq(tmp_path, "synth", "delivery_note", "--count", "1", "-o", str(locked / "out.jsonl"))
        assert_one_line_naming(done, str(locked / "out.jsonl"), "is not writable")
    finally:
        notes.chmod(0o600)
        locked.chmod(0o700)
