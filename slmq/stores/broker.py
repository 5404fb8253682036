"""The Celery app both sides build from the same settings."""

from celery import Celery

from celeryconfig import celery_config
from slmq.constants import NAMESPACE
from slmq.settings import Settings
from slmq.stores.embedded import embedded_server


def broker_url(settings: Settings) -> str:
    """The configured broker, or the embedded server (started if needed) when none is configured."""
    if settings.broker_url is not None:
        return settings.broker_url.get_secret_value()
    return embedded_server(settings.home).ensure_running()


def create_app(settings: Settings) -> Celery:
    """A Celery app configured for slmq; workers register the task types on it."""
    broker = broker_url(settings)
    backend = settings.result_backend.get_secret_value() if settings.result_backend else broker
    app = Celery(NAMESPACE, set_as_current=False)
    app.conf.update(celery_config(settings, broker, backend))
    return app


def broker_hint(settings: Settings) -> str:
    """How to fix an unreachable broker, for error messages."""
    if settings.broker_url is None:
        where = settings.home / "redis"
        return f"The embedded server under {where} is not answering; run the command again to restart it."
    return "Check that Redis is running and that SLMQ_BROKER_URL points at it."
