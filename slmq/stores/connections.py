"""Raw Redis clients for the stores beside Celery (jobs, dead letters, leases, metrics, liveness), made one way.

Every client gets the deployment's timeouts (``SLMQ_BROKER_TIMEOUT_S`` for each command and each connection
attempt, so a half-open connection or a paused server fails a call instead of hanging the caller), TCP
keepalive, and the TLS options and credentials of its URL, read as Celery reads them for the broker.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from celery import Celery

from celeryconfig import tls_options
from slmq.settings import Settings
from slmq.stores.broker import broker_url

# redis-py knows these schemes by their Redis names; the TLS query options are passed as parsed here.
SCHEMES = {"valkey": "redis", "valkeys": "rediss"}
TLS_QUERY = {"ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile"}
HEALTH_CHECK_S = 30  # an idle pooled connection is pinged before reuse after this long


def redis_client(url: str, timeout_s: float) -> redis.Redis:
    """A client of the server at ``url`` whose commands and connection attempts fail after ``timeout_s``."""
    parts = urlsplit(url)
    query = urlencode([(key, value) for key, value in parse_qsl(parts.query) if key not in TLS_QUERY])
    plain = urlunsplit(parts._replace(scheme=SCHEMES.get(parts.scheme, parts.scheme), query=query))
    return redis.Redis.from_url(
        plain,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        socket_keepalive=True,
        health_check_interval=HEALTH_CHECK_S,
        **(tls_options(url) or {}),
    )


def broker_client(settings: Settings) -> redis.Redis:
    """A client of the broker's Redis (the embedded server when none is configured)."""
    return redis_client(broker_url(settings), settings.broker_timeout_s)


def app_client(app: Celery) -> redis.Redis:
    """A client of ``app``'s broker with the timeout the app was configured with (``slmq.stores.broker.create_app``)."""
    return redis_client(str(app.conf.broker_url), float(app.conf.broker_transport_options["socket_timeout"]))
