"""slmq's kombu transport against a real Redis: only undecodable items are discarded; a delivery bug is raised."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from kombu import Connection, Exchange, Queue

from slmq.constants import KOMBU_UNACKED_KEY, OWNED_KEY_PREFIX
from workers.transport import Transport

QUEUE = "slmq.transport-test"


@pytest.fixture
def connection(redis_url: str) -> Iterator[Connection]:
    with Connection(redis_url, transport=Transport, transport_options={"priority_steps": [0]}) as conn:
        yield conn


def queue() -> Queue:
    return Queue(QUEUE, Exchange(QUEUE, type="direct"), routing_key=QUEUE)


def test_an_error_in_the_delivery_is_raised_and_the_message_stays_unacked(
    connection: Connection, redis_url: str
) -> None:
    # Given a message on a queue and a consumer whose callback (the worker's batch, in a worker) has a bug
    connection.Producer(serializer="json").publish({"n": 1}, exchange=queue().exchange, routing_key=QUEUE,
                                                   declare=[queue()])  # fmt: skip

    def buggy(body: Any, message: Any) -> None:
        raise KeyError("a bug in the batch")  # a bug of the kind a message that is no task would raise

    # When the consumer receives it, then the bug surfaces instead of being logged as "not a task message"
    with connection.Consumer([queue()], callbacks=[buggy], accept=["json"]), pytest.raises(KeyError, match="bug"):
        connection.drain_events(timeout=5)
    # And the message is not dropped: it is recorded as unacked, held by this process
    client = redis.Redis.from_url(redis_url)
    (record,) = client.hvals(KOMBU_UNACKED_KEY)
    assert json.loads(record)[2] == QUEUE
    assert sum(int(client.hlen(key)) for key in client.scan_iter(f"{OWNED_KEY_PREFIX}*")) == 1


def test_an_item_that_is_no_message_is_discarded_and_the_next_message_delivered(
    connection: Connection, redis_url: str
) -> None:
    # Given garbage pushed straight onto the queue ahead of a real message
    connection.Producer(serializer="json").publish({"n": 2}, exchange=queue().exchange, routing_key=QUEUE,
                                                   declare=[queue()])  # fmt: skip
    redis.Redis.from_url(redis_url).rpush(QUEUE, b'{"properties": {"delivery_tag": "x"}}')  # popped first
    received: list[Any] = []
    # When the consumer drains the queue, then the garbage is dropped and the message arrives
    with connection.Consumer([queue()], callbacks=[lambda body, message: received.append(body)], accept=["json"]):
        for _ in range(2):
            try:
                connection.drain_events(timeout=2)
            except TimeoutError:
                break
    assert received == [{"n": 2}]
    assert redis.Redis.from_url(redis_url).llen(QUEUE) == 0
