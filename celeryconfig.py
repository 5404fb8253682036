"""Celery's settings, built from slmq's settings. Nothing else lives here.

It is a function rather than module-level names because the broker URL is only known once the
embedded server (if any) is running, and tests build apps for several Redis databases in one process.
"""

import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from slmq.settings import Settings

if TYPE_CHECKING:
    from slmq.fleet import Fleet

CERT_REQUIREMENTS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}
# A producer whose broker is down gets BrokerUnavailableError after about a second, never kombu's long retry loop.
PRODUCER_RETRY_POLICY: dict[str, float] = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}


def worker_celery_config() -> dict[str, Any]:
    """What a worker changes: it keeps a result until Redis takes it, rather than failing it on a short outage."""
    return {
        "result_backend_always_retry": True,
        "result_backend_max_retries": 100,
        "result_backend_max_sleep_between_retries_ms": 2000,
    }


def tls_options(url: str) -> dict[str, Any] | None:
    """TLS options of a ``rediss://`` URL from its query (``ssl_cert_reqs``, ``ssl_ca_certs``, ...); None for plain."""
    parts = urlsplit(url)
    if parts.scheme not in ("rediss", "valkeys"):
        return None
    query = dict(parse_qsl(parts.query))
    requirement = query.get("ssl_cert_reqs", "required").lower().removeprefix("cert_")
    options: dict[str, Any] = {"ssl_cert_reqs": CERT_REQUIREMENTS.get(requirement, ssl.CERT_REQUIRED)}
    options.update({key: query[key] for key in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile") if key in query})
    return options


def celery_config(settings: Settings, broker_url: str, result_backend: str) -> dict[str, Any]:
    """Celery settings for long model tasks: JSON only, late acks, one message prefetched at a time."""
    visibility_timeout = settings.effective_visibility_timeout_s()  # a ConfigError if inconsistent with time limits
    timeout = settings.broker_timeout_s
    transport_options = {
        "visibility_timeout": visibility_timeout,
        # A killed worker's messages come back within a tenth of the visibility timeout after it expires.
        "unacked_restore_interval": max(1, visibility_timeout // 10),
        "unacked_restore_throttle": 1,
        # One list per queue (slmq sends no priorities): a worker then pops with BLMOVE (workers/transport.py).
        "priority_steps": [0],
        # A paused or unreachable Redis fails a command after this instead of hanging forever.
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # The result backend's own reconnect loop (20 x 1 s by default): a producer fails fast instead.
        "retry_policy": PRODUCER_RETRY_POLICY,
    }
    return {
        "broker_url": broker_url,
        "result_backend": result_backend,
        # rediss:// verifies the server's certificate (system CAs, or ssl_ca_certs=<file> in the URL's query).
        "broker_use_ssl": tls_options(broker_url),
        "redis_backend_use_ssl": tls_options(result_backend),
        "broker_transport_options": transport_options,
        "result_backend_transport_options": transport_options,
        # Workers reconnect forever after a Redis restart; producers fail fast (bounded publish retries below).
        "broker_connection_retry_on_startup": True,
        "broker_connection_retry": True,
        "broker_connection_max_retries": None,
        "broker_channel_error_retry": True,
        "task_publish_retry": True,
        "task_publish_retry_policy": PRODUCER_RETRY_POLICY,
        "redis_socket_timeout": timeout,
        "redis_socket_connect_timeout": timeout,
        # JSON only: pickle would let anyone who can write to Redis run code in a worker.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        # At-least-once: a message is acked after its result is stored, and goes back on worker loss.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "result_expires": settings.result_expires_s,
        # No STARTED state and no extended results: each is one more Redis write per message, and
        # extended results would copy the payload (the note's text) into the result backend.
        "task_track_started": False,
        "result_extended": False,
        "worker_send_task_events": True,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "broker_connection_timeout": timeout,
        "enable_utc": True,
    }


def beat_schedule(fleet: "Fleet") -> dict[str, Any]:
    """Celery beat's schedule: one entry per ``[pipelines.<name>]`` of the fleet file, sent to the pipeline queue."""
    from datetime import timedelta

    from celery.schedules import crontab

    from slmq.constants import PIPELINE_QUEUE, PIPELINE_TASK

    schedule: dict[str, Any] = {}
    for name, pipeline in fleet.pipelines.items():
        fields = pipeline.crontab_fields()
        every = crontab(**fields) if fields else timedelta(seconds=float(pipeline.schedule))
        # A tick nobody took before the next one is due is dropped, so a busy pipeline builds no backlog.
        expires = 60.0 if fields else max(float(pipeline.schedule), 1.0)
        options = {"queue": PIPELINE_QUEUE, "expires": expires}
        schedule[f"pipeline:{name}"] = {"task": PIPELINE_TASK, "schedule": every, "args": (name,), "options": options}
    return schedule
