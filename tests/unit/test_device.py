"""Device pinning happens before torch is imported, in a fresh process as a worker does it."""

import subprocess
import sys

import pytest

from tests.conftest import REPO

PIN = """
import os, sys
from workers.device import pin_device
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
    script = "import torch\nfrom workers.device import pin_device\npin_device('cpu')"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert done.returncode != 0
    assert "torch was imported before the device was pinned" in done.stderr


def test_a_malformed_device_is_refused_with_an_example() -> None:
    script = "from workers.device import pin_device\npin_device('gpu0')"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert "pass e.g. --device cuda:0" in done.stderr
