"""Deployment settings, read once from ``SLMQ_*`` environment variables."""

import math
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from slmq.errors import ConfigError

REDIS_SCHEMES = ("redis", "rediss", "unix", "valkey", "valkeys")
VISIBILITY_SLACK_S = 10


class Settings(BaseSettings):
    """Where the broker is, where the fleet file is, and the limits a deployment may tune."""

    model_config = SettingsConfigDict(env_prefix="SLMQ_", extra="ignore")

    broker_url: SecretStr | None = Field(
        default=None, description="Redis URL of the broker; unset means the embedded server under SLMQ_HOME."
    )
    result_backend: SecretStr | None = Field(default=None, description="Redis URL for results; defaults to the broker.")
    fleet: Path = Field(default=Path("fleet.toml"), description="The fleet file.")
    home: Path = Field(default=Path("~/.slmq"), description="Model cache, embedded Redis data and job data.")
    model_cache: Path | None = Field(
        default=None, description="Fetched and converted models; default SLMQ_HOME/models."
    )
    max_payload_bytes: int = Field(default=64 * 1024, gt=0, description="Largest JSON payload accepted for enqueue.")
    result_expires_s: int = Field(default=7 * 24 * 3600, gt=0, description="How long results stay in the backend.")
    task_time_limit_s: float = Field(
        default=300.0, gt=0, description="Generation stops at it; a model call running twice as long ends its worker."
    )
    visibility_timeout_s: int | None = Field(
        default=None, gt=0, description="Redis re-delivers an unacked message after it; derived from the time limit."
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Deliveries of one message to a worker's model before it is dead-lettered."
    )
    broker_timeout_s: float = Field(
        default=5.0, gt=0, description="How long one broker command or connection attempt may take before it fails."
    )
    worker_ready_timeout_s: float = Field(
        default=900.0, gt=0, description="How long a spawned worker may take to load."
    )
    flower_user: str | None = Field(default=None, description="Basic-auth user of `slmq flower`.")
    flower_password: SecretStr | None = Field(default=None, description="Basic-auth password of `slmq flower`.")
    worker_dead_after_s: float = Field(
        default=30.0,
        ge=1,
        description="A worker whose heartbeat is this old is dead: its messages go back on their queue.",
    )
    workers_per_host: int | None = Field(
        default=None, ge=1, description="CPU workers one host runs; each gets its share of the cores as torch threads."
    )
    metrics_heartbeat_s: float = Field(
        default=15.0, gt=0, description="How often a worker writes its gauges (memory, load time) for `slmq metrics`."
    )

    @field_validator("broker_url", "result_backend")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and urlsplit(value.get_secret_value()).scheme not in REDIS_SCHEMES:
            raise ValueError(
                "is not a Redis URL; use redis://[user:password@]host:6379/0 or rediss:// for TLS, "
                "or leave it unset for the embedded server"
            )
        return value

    @field_validator("home", "model_cache")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def models_dir(self) -> Path:
        return self.model_cache or self.home / "models"

    @property
    def hard_time_limit_s(self) -> float:
        """A batch still running after this ends its worker process (the solo pool has no hard limit of its own)."""
        return 2 * self.task_time_limit_s

    @property
    def min_visibility_timeout_s(self) -> int:
        """A prefetched message waits for the batch in hand, then runs in its own: two hard limits, plus slack."""
        return math.ceil(2 * self.hard_time_limit_s + VISIBILITY_SLACK_S)

    def effective_visibility_timeout_s(self) -> int:
        """The visibility timeout in force; a ConfigError if one set by hand would re-deliver running tasks."""
        if self.visibility_timeout_s is None:
            return self.min_visibility_timeout_s
        if self.visibility_timeout_s < self.min_visibility_timeout_s:
            raise ConfigError(
                f"SLMQ_VISIBILITY_TIMEOUT_S={self.visibility_timeout_s} is shorter than two hard time limits "
                f"(2 x 2 x SLMQ_TASK_TIME_LIMIT_S={self.task_time_limit_s:g}, plus {VISIBILITY_SLACK_S}s): Redis would "
                f"re-deliver messages still being answered. Set it to at least {self.min_visibility_timeout_s}, "
                "or unset it to derive it from the time limit."
            )
        return self.visibility_timeout_s


def load_settings() -> Settings:
    """Read the ``SLMQ_*`` environment once, with errors that name the variable and the fix."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"SLMQ_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"Invalid slmq settings: {problems}.") from None
