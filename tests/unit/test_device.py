"""Device pinning happens before torch is imported, in a fresh process as a worker does it."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from workers.model.device import cpu_has_bf16, thread_count

PIN = """
import os, sys
from workers.model.device import pin_device
device = pin_device({device!r})
import torch
print(device, repr(os.environ["CUDA_VISIBLE_DEVICES"]), torch.cuda.device_count())
"""


@pytest.mark.parametrize(("device", "expected"), [("cpu", "cpu '' 0"), ("cuda:3", "cuda:0 '3'")])
def test_the_device_is_pinned_before_torch_loads(device: str, expected: str) -> None:
    done = subprocess.run([sys.executable, "-c", PIN.format(device=device)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(expected)


def test_pinning_after_torch_was_imported_is_refused() -> None:
    script = "import torch\nfrom workers.model.device import pin_device\npin_device('cpu')"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert done.returncode != 0
    assert "torch was imported before the device was pinned" in done.stderr


def test_a_malformed_device_is_refused_with_an_example() -> None:
    script = "from workers.model.device import pin_device\npin_device('gpu0')"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert "pass e.g. --device cuda:0" in done.stderr


def test_a_worker_takes_its_share_of_the_cores_unless_told_its_threads() -> None:
    assert thread_count(None, None, cpu_workers=2, cores=8) == 4
    assert thread_count(None, None, cpu_workers=3, cores=2) == 1  # more workers than cores: one thread each
    assert thread_count(None, None, cpu_workers=0, cores=2) == 2  # a fleet of GPU workers: the host's cores
    assert thread_count(None, 3, cpu_workers=2, cores=8) == 3  # fleet.toml's threads
    assert thread_count(6, 3, cpu_workers=2, cores=8) == 6  # --threads


@pytest.mark.parametrize(
    ("flags", "expected"),
    [("fpu avx2 avx512f avx512_bf16 avx512_vnni", True), ("fpu avx2 amx_bf16 amx_tile", True),
     ("fpu avx avx2 fma", False), (None, False)],
)  # fmt: skip
def test_bf16_hardware_is_read_off_the_cpu_flags(tmp_path: Path, flags: str | None, expected: bool) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    if flags is not None:
        cpuinfo.write_text(f"processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: {flags}\n")
    assert cpu_has_bf16(cpuinfo) is expected
