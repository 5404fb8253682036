"""The celery and kombu releases the worker is written against, checked before a worker starts.

``workers/transport.py`` overrides internals of kombu's Redis transport (``_brpop_start``, ``_brpop_read``,
``QoS._remove_from_indices``, ...) and the batcher hooks into Celery's consumer; other releases may rename
them, and would fail on the first message instead of at start. pyproject.toml pins the same ranges.
"""

import re
from collections.abc import Callable
from importlib.metadata import version

from slmq.errors import ConfigError

# package -> (lowest tested release, first release not supported)
TESTED: dict[str, tuple[str, str]] = {"kombu": ("5.7.0", "5.8"), "celery": ("5.7.0", "5.8")}


def release(text: str) -> tuple[int, ...]:
    """The numeric release of a version string: '5.7.0rc1' -> (5, 7, 0)."""
    match = re.match(r"\d+(\.\d+)*", text)
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def check_versions(installed: Callable[[str], str] = version, packages: tuple[str, ...] = tuple(TESTED)) -> None:
    """A ConfigError naming the versions if the installed ``packages`` (celery, kombu) are outside the tested range."""
    for package in packages:
        lowest, below = TESTED[package]
        found = installed(package)
        if not release(lowest) <= release(found) < release(below):
            raise ConfigError(
                f"slmq's worker is written against {package}>={lowest},<{below} (its transport and batcher use "
                f"{package}'s internals), but {package} {found} is installed; install a tested one: "
                f"pip install '{package}>={lowest},<{below}'."
            )
