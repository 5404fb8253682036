"""Shared fixtures: tests are marked by directory; Redis tests skip on a laptop but fail in CI."""

import contextlib
import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REDIS_URL = os.environ.get("SLMQ_TEST_REDIS_URL", "redis://127.0.0.1:6379")
sys.path.insert(0, str(REPO))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker in ("integration", "e2e", "faults"):
            if f"{os.sep}{marker}{os.sep}" in str(item.path):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama in safetensors with a ChatML tokenizer, built once per session."""
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis the suite runs against; missing Redis skips locally and fails under CI."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


_databases = itertools.cycle(range(1, 16))


@contextlib.contextmanager
def _own_database(server: str) -> Iterator[str]:
    # Tests run one at a time, so a database number is reused only after its last user emptied it.
    url = f"{server}/{next(_databases)}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A Redis database (1-15) of this test's own, emptied before and after; never FLUSHALL."""
    with _own_database(redis_server) as url:
        yield url


@pytest.fixture(scope="module")
def module_redis_url(redis_server: str) -> Iterator[str]:
    """Like ``redis_url``, shared by the tests of one module (and the workers they share)."""
    with _own_database(redis_server) as url:
        yield url
