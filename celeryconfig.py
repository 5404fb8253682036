"""Celery's settings, built from slmq's settings. Nothing else lives here.

It is a function rather than module-level names because the broker URL is only known once the
embedded server (if any) is running, and tests build apps for several Redis databases in one process.
"""

from typing import Any

from slmq.settings import Settings


def celery_config(settings: Settings, broker_url: str, result_backend: str) -> dict[str, Any]:
    """Celery settings for long model tasks: JSON only, late acks, one message prefetched at a time."""
    transport_options = {"visibility_timeout": settings.visibility_timeout_s}
    return {
        "broker_url": broker_url,
        "result_backend": result_backend,
        "broker_transport_options": transport_options,
        "result_backend_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
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
        "broker_connection_timeout": 5,
        "redis_socket_connect_timeout": 5,
        "enable_utc": True,
    }
