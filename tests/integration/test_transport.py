"""slmq's kombu transport against a real Redis: only undecodable items are discarded; a delivery bug is raised."""

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from kombu import Connection, Exchange, Queue

from slmq.constants import KOMBU_UNACKED_KEY, OWNED_KEY_PREFIX
from workers.transport import Transport, inflight_list

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


def test_a_message_fetched_while_another_is_delivered_is_delivered_and_held_like_a_popped_one(
    connection: Connection, redis_url: str
) -> None:
    # Given two messages on the queue, and a callback that, given the first, fetches more (as a running batch does)
    for n in (1, 2):
        connection.Producer(serializer="json").publish({"n": n}, exchange=queue().exchange, routing_key=QUEUE,
                                                       declare=[queue()])  # fmt: skip
    received: list[Any] = []
    fetched: list[bool] = []

    def batch(body: Any, message: Any) -> None:
        received.append(body)
        if body == {"n": 1}:
            fetched.extend([message.channel.fetch(QUEUE), message.channel.fetch(QUEUE)])

    # When the consumer receives the first
    with connection.Consumer([queue()], callbacks=[batch], accept=["json"]):
        connection.drain_events(timeout=5)
    # Then the second was delivered through the same callback while the first was, and the queue was then empty
    assert received == [{"n": 1}, {"n": 2}] and fetched == [True, False]
    # And both are recorded as unacked and held by this process, and neither is left on the in-flight list
    client = redis.Redis.from_url(redis_url)
    assert client.hlen(KOMBU_UNACKED_KEY) == 2
    assert sum(int(client.hlen(key)) for key in client.scan_iter(f"{OWNED_KEY_PREFIX}*")) == 2
    assert client.llen(inflight_list(QUEUE)) == 0 and client.llen(QUEUE) == 0


def test_a_message_the_blocking_pop_took_while_a_batch_ran_is_fetched_first(connection: Connection) -> None:
    received: list[Any] = []
    with connection.Consumer([queue()], callbacks=[lambda body, message: received.append(body)], accept=["json"]) as c:
        # Given the event loop's blocking pop, sent before a batch began (a batch its timer started)
        channel = c.channel
        connection.transport.cycle._register_BRPOP(channel)  # as the event loop registers and sends it
        # When two messages arrive while the batch runs: Redis hands the first to that pop
        for n in (1, 2):
            connection.Producer(serializer="json").publish({"n": n}, exchange=queue().exchange, routing_key=QUEUE,
                                                           declare=[queue()])  # fmt: skip
        waited = 0.0
        while not channel.client.connection.can_read(timeout=0) and waited < 5:
            time.sleep(0.01)
            waited += 0.01
        # Then the batch fetches that one first, then the other from the queue, then finds it empty
        assert [channel.fetch(QUEUE), channel.fetch(QUEUE), channel.fetch(QUEUE)] == [True, True, False]
    assert received == [{"n": 1}, {"n": 2}]
