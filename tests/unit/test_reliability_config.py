"""Delivery settings: the visibility timeout follows the time limits, producers fail fast, TLS verifies."""

import logging
import ssl

import pytest
from celery.worker.consumer import consumer

from celeryconfig import celery_config, tls_options
from slmq.errors import ConfigError
from slmq.settings import Settings
from workers.logs import REDACTED, RedactBodies

URL = "redis://127.0.0.1:6379/0"


def test_the_visibility_timeout_is_derived_from_the_time_limit_when_unset() -> None:
    # Given a 60 s task time limit (hard limit 120 s)
    settings = Settings(task_time_limit_s=60)
    # When Celery's settings are built
    config = celery_config(settings, URL, URL)
    # Then a prefetched message outlives two hard limits before Redis re-delivers it
    assert config["broker_transport_options"]["visibility_timeout"] == 2 * 120 + 10
    assert config["broker_transport_options"]["unacked_restore_interval"] == 25


def test_a_visibility_timeout_shorter_than_two_hard_limits_is_refused_at_start() -> None:
    # Given a visibility timeout that would re-deliver tasks still running
    settings = Settings(task_time_limit_s=300, visibility_timeout_s=600)
    # When Celery's settings are built, Then a ConfigError names the variable and the smallest safe value
    with pytest.raises(ConfigError, match=r"SLMQ_VISIBILITY_TIMEOUT_S=600 .* at least 1210"):
        celery_config(settings, URL, URL)


def test_producers_retry_a_bounded_number_of_times_and_commands_time_out() -> None:
    # Given default settings, When Celery's settings are built
    config = celery_config(Settings(), URL, URL)
    # Then publishing and the result backend give up after two retries, and no command waits forever
    assert config["task_publish_retry_policy"]["max_retries"] == 2
    assert config["result_backend_transport_options"]["retry_policy"]["max_retries"] == 2
    assert config["broker_transport_options"]["socket_timeout"] == Settings().broker_timeout_s
    assert config["broker_connection_max_retries"] is None, "workers reconnect for as long as it takes"
    assert config["accept_content"] == ["json"] and config["result_accept_content"] == ["json"]


def test_rediss_urls_verify_the_server_certificate_by_default() -> None:
    # Given TLS URLs with and without a CA file, and a plain URL
    with_ca = tls_options("rediss://:pw@redis.internal:6380/0?ssl_ca_certs=/etc/slmq/ca.pem")
    without = tls_options("rediss://:pw@redis.internal:6380/0")
    # Then the certificate is always required, and the CA file is passed on; plain Redis has no TLS options
    assert with_ca == {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": "/etc/slmq/ca.pem"}
    assert without == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    assert tls_options(URL) is None


def test_celerys_report_of_a_rejected_message_keeps_its_body_out_of_the_log() -> None:
    # Given Celery's log record for an unregistered task, with the message body and headers as arguments
    record = logging.LogRecord(
        "celery.worker.consumer.consumer", logging.ERROR, __file__, 1, consumer.UNKNOWN_TASK_ERROR,
        ("slmq.nope", "{'payload': {'text': 'Deliver to 14 Harbour Rd'}}", {"kwargsrepr": "..."}, {}), None,
    )  # fmt: skip
    # When the filter sees it
    RedactBodies().filter(record)
    # Then the task name stays and the body and headers are gone
    message = record.getMessage()
    assert "slmq.nope" in message and "Harbour" not in message and REDACTED in message
