"""The embedded broker: started once, reused, loopback only, password required, append-only, no eviction."""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from slmq.stores.embedded import EmbeddedServer, embedded_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    embedded = embedded_server(tmp_path)
    yield embedded
    embedded.stop()


def test_a_second_start_reuses_the_running_server(server: EmbeddedServer) -> None:
    url = server.ensure_running()
    pid = server.pid()
    assert server.ensure_running() == url
    assert server.pid() == pid


def test_it_listens_on_loopback_with_a_password_append_only_and_no_eviction(server: EmbeddedServer) -> None:
    url = urlsplit(server.ensure_running())
    assert url.hostname == "127.0.0.1"
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=url.hostname, port=url.port).ping()
    client = redis.Redis.from_url(url.geturl())
    config = {key: client.config_get(key)[key] for key in ("bind", "appendonly", "maxmemory-policy", "dir")}
    assert config["bind"].split() == ["127.0.0.1"]
    assert config["appendonly"] == "yes"
    assert config["maxmemory-policy"] == "noeviction"
    assert Path(config["dir"]) == server.directory


def test_data_survives_a_stop_and_restart(server: EmbeddedServer) -> None:
    redis.Redis.from_url(server.ensure_running()).rpush("slmq.test", b"note-1")
    assert server.stop()
    assert server.pid() is None
    assert redis.Redis.from_url(server.ensure_running()).lrange("slmq.test", 0, -1) == [b"note-1"]
