"""Settings come from SLMQ_* variables and fail with the variable's name and the fix."""

import pytest

from slmq.errors import ConfigError
from slmq.settings import load_settings


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLMQ_BROKER_URL", raising=False)
    settings = load_settings()
    assert settings.broker_url is None
    assert settings.models_dir == settings.home / "models"


def test_a_broker_url_that_is_not_redis_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLMQ_BROKER_URL", "amqp://guest@localhost//")
    with pytest.raises(ConfigError, match=r"SLMQ_BROKER_URL: .*is not a Redis URL; use redis://"):
        load_settings()


def test_a_non_numeric_limit_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLMQ_MAX_PAYLOAD_BYTES", "lots")
    with pytest.raises(ConfigError, match="SLMQ_MAX_PAYLOAD_BYTES"):
        load_settings()


def test_the_password_in_a_broker_url_is_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLMQ_BROKER_URL", "redis://app:s3cret@redis:6379/0")
    settings = load_settings()
    assert "s3cret" not in repr(settings)
    assert settings.broker_url is not None and "s3cret" in settings.broker_url.get_secret_value()
