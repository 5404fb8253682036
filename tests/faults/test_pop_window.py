"""The pop window (celery#7950): Redis has popped a message for a consumer, and the consumer never
reads the reply: Redis is killed before sending it, the connection drops, or the consumer dies. kombu's
stock transport has then lost the message (append-only persistence keeps the pop); slmq's transport
pops into an in-flight list and puts it back. Each case runs with both transports: the stock one
shows that the test reaches the window.

The consumers are kombu connections driven by hand, so that the reply can be lost on purpose: the pop
is sent, Redis executes it, and the reply is never read.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu import Connection, Exchange, Queue
from kombu.transport import redis as kombu_redis

from tests.faults.conftest import RedisServer, wait_for
from workers import transport

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "slmq.window"
# A 5 s visibility timeout, swept on every empty poll, as the fault tests' workers do with theirs.
OPTIONS = {"priority_steps": [0], "visibility_timeout": 5, "unacked_restore_throttle": 1, "socket_timeout": 3}
TRANSPORTS = pytest.mark.parametrize(
    ("transport_class", "delivered"),
    [(kombu_redis.Transport, []), (transport.Transport, [{"n": 1}])],
    ids=["kombu-brpop", "slmq-blmove"],
)


@pytest.fixture
def client(redis_proc: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_proc.url)
    client.flushdb()
    yield client
    client.close()


def queue() -> Queue:
    return Queue(QUEUE, Exchange(QUEUE, type="direct"), routing_key=QUEUE)


def publish(url: str, body: dict[str, Any]) -> None:
    with Connection(url, transport=transport.Transport, transport_options=OPTIONS) as connection:
        connection.Producer().publish(body, exchange=queue().exchange, routing_key=QUEUE, declare=[queue()])


def receive(url: str, transport_class: type, seconds: float) -> list[dict[str, Any]]:
    """Consume ``QUEUE`` for ``seconds`` with ``transport_class``, acking each message; the bodies received."""
    received: list[dict[str, Any]] = []
    with Connection(url, transport=transport_class, transport_options=OPTIONS) as connection:

        def on_message(body: dict[str, Any], message: Any) -> None:
            received.append(body)
            message.ack()

        with connection.Consumer(queue(), callbacks=[on_message]):
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=0.5)
    return received


def start_pop(url: str, transport_class: type, client: redis.Redis) -> Connection:
    """A consumer that has sent its pop, and Redis has executed it: the message is off the queue."""
    connection = Connection(url, transport=transport_class, transport_options=OPTIONS)
    consumer = connection.Consumer(queue(), callbacks=[])
    consumer.consume()
    connection.transport.cycle._register_BRPOP(consumer.channel)  # what the worker's event loop does: pop
    wait_for(lambda: client.llen(QUEUE) == 0, 10, "Redis never popped the message")
    return connection


def pop_and_die(url: str, transport_name: str) -> None:
    """Run in a child process: pop, then SIGKILL this process before the reply is read."""
    transport_class = transport.Transport if transport_name == "slmq" else kombu_redis.Transport
    start_pop(url, transport_class, redis.Redis.from_url(url))
    os.kill(os.getpid(), signal.SIGKILL)


@TRANSPORTS
def test_a_message_whose_pop_reply_is_lost_as_redis_is_killed_is_delivered_after_the_restart(
    redis_proc: RedisServer, client: redis.Redis, transport_class: type, delivered: list[dict[str, Any]]
) -> None:
    # Given one message, popped by a consumer whose connection drops before the reply is read
    publish(redis_proc.url, {"n": 1})
    connection = start_pop(redis_proc.url, transport_class, client)
    connection.default_channel.client.connection.disconnect()
    # When Redis is SIGKILLed and restarted on its append-only file, and the consumer connects again
    redis_proc.kill()
    redis_proc.start()
    with contextlib.suppress(redis.exceptions.ConnectionError, AttributeError):
        connection.release()
    received = receive(redis_proc.url, transport_class, seconds=3)
    # Then kombu's BRPOP has lost the message, and slmq's BLMOVE delivers it once
    assert received == delivered
    assert client.llen(QUEUE) == 0 and client.hlen("unacked") == 0


@TRANSPORTS
def test_a_message_popped_by_a_consumer_that_dies_goes_to_another_consumer(
    redis_proc: RedisServer, client: redis.Redis, transport_class: type, delivered: list[dict[str, Any]]
) -> None:
    # Given one message, popped by a consumer process that is SIGKILLed before it reads the reply
    publish(redis_proc.url, {"n": 1})
    name = "slmq" if transport_class is transport.Transport else "kombu"
    code = f"from tests.faults.test_pop_window import pop_and_die; pop_and_die({redis_proc.url!r}, {name!r})"
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60, check=False)
    assert child.returncode == -signal.SIGKILL
    # When another consumer consumes for longer than the visibility timeout (5 s)
    received = receive(redis_proc.url, transport_class, seconds=8)
    # Then kombu's BRPOP has lost the message, and slmq's sweep has put the dead consumer's list back
    assert received == delivered
    assert client.keys(f"{transport.INFLIGHT}:*") == [], "no in-flight list holds a message any more"


def test_a_received_message_is_unacked_and_off_the_in_flight_list_until_acked(
    redis_proc: RedisServer, client: redis.Redis
) -> None:
    # Given a message on the queue and a consumer that has not acked it yet
    publish(redis_proc.url, {"n": 3})
    held: list[Any] = []
    connection = Connection(redis_proc.url, transport=transport.Transport, transport_options=OPTIONS)
    with connection, connection.Consumer(queue(), callbacks=[lambda body, message: held.append(message)]):
        wait_for(lambda: connection.drain_events(timeout=2) or held, 10, "the message never arrived")
        # Then it is recorded as unacked, and no in-flight list holds it
        inflight = transport.inflight_list(QUEUE)
        assert client.hexists("unacked", held[0].delivery_tag) and client.llen(inflight) == 0
        held[0].ack()
    # And once acked, nothing of it is left
    assert client.hlen("unacked") == 0 and client.llen(QUEUE) == 0
