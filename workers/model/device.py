"""Device pinning, done before torch is imported so CUDA sees only the worker's own GPU."""

import os
import sys
from pathlib import Path

from slmq.errors import ConfigError


def pin_device(device: str) -> str:
    """Restrict CUDA to ``device`` and return the device name torch should use in this process.

    ``cuda:N`` exposes only GPU N (seen by torch as ``cuda:0``); ``cpu`` hides every GPU, so CUDA is
    never initialised by a CPU worker.
    """
    if "torch" in sys.modules:
        raise ConfigError("torch was imported before the device was pinned; pin the device first in the worker.")
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        return "cpu"
    kind, _, index = device.partition(":")
    if kind != "cuda" or not index.isdigit():
        raise ConfigError(f"Device {device!r} is not 'cpu' or 'cuda:<index>'; pass e.g. --device cuda:0.")
    os.environ["CUDA_VISIBLE_DEVICES"] = index
    return "cuda:0"


def thread_count(explicit: int | None, configured: int | None, cpu_workers: int, cores: int | None = None) -> int:
    """torch threads for one worker: ``--threads``, else the fleet's ``threads``, else its share of this host's cores.

    Several torch processes that each take every core fight over them (two workers on two cores ran a batch
    5-6x slower than one alone), so by default the cores are divided among the host's ``cpu_workers``.
    """
    if explicit is not None:
        return explicit
    if configured is not None:
        return configured
    available = cores if cores is not None else len(os.sched_getaffinity(0))
    return max(1, available // max(1, cpu_workers))


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU computes bf16 in hardware (AVX-512 bf16 or AMX); False where that cannot be read."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return "avx512_bf16" in flags or "amx_bf16" in flags
