"""``slmq flower``: Flower on the fleet's broker, always behind basic auth, read-only unless asked.

Flower can shut workers down and send any task (a control plane), and without auth its UI is open
to anyone who reaches the port. So it never starts without ``SLMQ_FLOWER_USER`` and
``SLMQ_FLOWER_PASSWORD``, not even on loopback (any local process or browser tab reaches loopback),
and its control operations stay off unless ``--allow-control`` is given. Needs the ``monitor`` extra.
"""

import importlib.util
import ipaddress
import sys

from slmq.errors import ConfigError
from slmq.settings import Settings
from slmq.stores.broker import create_app

LOOPBACK_NAMES = ("localhost",)


def credentials(settings: Settings) -> str:
    """``user:password`` for Flower's ``--basic_auth``, or a ConfigError that says how to set them."""
    user = settings.flower_user or ""
    password = settings.flower_password.get_secret_value() if settings.flower_password else ""
    if not user or not password:
        raise ConfigError(
            "slmq flower needs basic auth: set SLMQ_FLOWER_USER and SLMQ_FLOWER_PASSWORD. Flower can shut "
            "workers down and send tasks, so it never starts without authentication."
        )
    if ":" in user or "," in user:
        raise ConfigError("SLMQ_FLOWER_USER must not contain ':' or ','; choose another user name.")
    if "," in password:
        raise ConfigError("SLMQ_FLOWER_PASSWORD must not contain ','; Flower reads ',' as a list separator.")
    return f"{user}:{password}"


def is_loopback(address: str) -> bool:
    if address in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False  # a host name or '' (every interface)


def flower_argv(settings: Settings, address: str, port: int, allow_control: bool) -> list[str]:
    """Flower's command line; it stays in this process, so the password never shows in a process list."""
    argv = ["flower", f"--address={address}", f"--port={port}", f"--basic_auth={credentials(settings)}"]
    if not allow_control:
        argv.append("--read_only=True")
    return argv


def run_flower(settings: Settings, address: str, port: int, allow_control: bool) -> int:
    """Run Flower against the fleet's broker until interrupted."""
    argv = flower_argv(settings, address, port, allow_control)
    if importlib.util.find_spec("flower") is None:
        raise ConfigError("slmq flower needs Flower; install it with pip install 'slmq[monitor]'.")
    if not is_loopback(address):
        print(
            f"slmq: Flower listens on {address or 'every interface'}:{port} with basic auth over plain HTTP; "
            "put a TLS proxy in front of it or publish the port on loopback only.",
            file=sys.stderr,
        )
    return int(create_app(settings).start(argv) or 0)
