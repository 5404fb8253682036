"""The liveness sweep against a real Redis: a dead process's messages go back once, and only a steady sweeper sweeps."""

import json
import time

import redis

from slmq.constants import ALIVE_KEY, INFLIGHT_KEY, KOMBU_UNACKED_INDEX_KEY, KOMBU_UNACKED_KEY, inflight_key, owned_key
from workers.liveness import Liveness, reclaim_dead
from workers.transport import owner

DEAD_AFTER_S = 30.0
QUEUE = "slmq.tiny"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def held_by_a_dead_process(client: redis.Redis, process: str, count: int, last_beat: float) -> list[bytes]:
    """The records a worker process leaves when it dies holding ``count`` unacked messages and one in flight."""
    messages = [json.dumps({"headers": {"id": f"task-{n}"}, "n": n}).encode() for n in range(count + 1)]
    for n, message in enumerate(messages[:count]):
        tag = f"tag-{process}-{n}"
        client.hset(KOMBU_UNACKED_KEY, tag, json.dumps([json.loads(message), "", QUEUE]))
        client.zadd(KOMBU_UNACKED_INDEX_KEY, {tag: last_beat})
        client.hset(owned_key(process), tag, f"{QUEUE}\n{last_beat!r}\n".encode() + message)
    client.rpush(inflight_key(process, QUEUE), messages[count])  # popped, never recorded
    client.zadd(INFLIGHT_KEY, {inflight_key(process, QUEUE): last_beat})
    client.zadd(ALIVE_KEY, {process: last_beat})
    return messages


def test_a_dead_process_s_messages_go_back_on_their_queue_once_and_a_live_one_s_stay(redis_url: str) -> None:
    # Given a process that last beat a minute ago holding three messages, and a live one holding one
    client = redis.Redis.from_url(redis_url)
    now = time.time()
    dead = held_by_a_dead_process(client, "dead-1", 3, now - 60)
    held_by_a_dead_process(client, "live-2", 1, now)
    # When it is swept twice, then its three unacked and one in-flight messages are on the queue once, as popped
    assert reclaim_dead(client, DEAD_AFTER_S) == (1, 4)
    assert reclaim_dead(client, DEAD_AFTER_S) == (0, 0)
    assert sorted(client.lrange(QUEUE, 0, -1)) == sorted(dead)
    # And kombu and the liveness records forget it, and keep the live process's message
    assert client.hkeys(KOMBU_UNACKED_KEY) == [b"tag-live-2-0"] and client.zcard(KOMBU_UNACKED_INDEX_KEY) == 1
    assert not client.exists(owned_key("dead-1")) and client.zrange(ALIVE_KEY, 0, -1) == [b"live-2"]
    assert client.zrange(INFLIGHT_KEY, 0, -1) == [inflight_key("live-2", QUEUE).encode()]


def test_a_sweeper_sweeps_only_after_beating_steadily_for_the_dead_after_time(redis_url: str) -> None:
    # Given a dead process's messages, and a new worker's liveness on a fake clock
    client = redis.Redis.from_url(redis_url)
    held_by_a_dead_process(client, "dead-3", 2, time.time() - 60)
    clock = Clock()
    liveness = Liveness(client, DEAD_AFTER_S, clock=clock)
    # When it beats every interval, then it sweeps only once it has beaten for the dead-after time
    sweeps = []
    for _ in range(7):
        sweeps.append(liveness.tick())
        clock.now += liveness.interval_s
    assert sweeps == [(0, 0)] * 6 + [(1, 3)]
    assert client.zscore(ALIVE_KEY, owner()) is not None


def test_after_a_gap_in_its_own_beats_a_sweeper_waits_the_dead_after_time_again(redis_url: str) -> None:
    # Given a worker that has beaten steadily, then was away (paused, or Redis was) for a minute
    client = redis.Redis.from_url(redis_url)
    clock = Clock()
    liveness = Liveness(client, DEAD_AFTER_S, clock=clock)
    for _ in range(7):
        liveness.tick()
        clock.now += liveness.interval_s
    clock.now += 60
    # When it finds a process whose beat is stale (every beat looks old after an outage), then it waits first
    held_by_a_dead_process(client, "stale-4", 1, time.time() - 60)
    assert liveness.tick() == (0, 0)
    for _ in range(6):
        clock.now += liveness.interval_s
        result = liveness.tick()
    assert result == (1, 2)


def test_a_heartbeat_redis_refuses_is_retried_and_the_sweep_counts_from_the_first_good_beat(redis_url: str) -> None:
    # Given a dead process's messages, and a worker whose first beat Redis refuses
    client = redis.Redis.from_url(redis_url)
    held_by_a_dead_process(client, "dead-5", 1, time.time() - 60)
    clock = Clock()
    liveness = Liveness(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5), DEAD_AFTER_S, clock=clock)
    assert liveness.tick() == (0, 0)
    # When Redis answers from the next beat on, then the sweep waits the dead-after time from that beat
    liveness.client = client
    sweeps = []
    for _ in range(7):
        clock.now += liveness.interval_s
        sweeps.append(liveness.tick())
    assert sweeps == [(0, 0)] * 6 + [(1, 2)]


def test_a_message_re_delivered_to_another_process_is_not_taken_back_from_it(redis_url: str) -> None:
    # Given a dead process's record of a message that kombu has since delivered again, to a live process
    client = redis.Redis.from_url(redis_url)
    now = time.time()
    held_by_a_dead_process(client, "dead-6", 1, now - 600)
    held_by_a_dead_process(client, "live-7", 0, now)
    client.hset(owned_key("live-7"), "tag-dead-6-0", f"{QUEUE}\n{now!r}\n".encode() + b"{}")
    client.zadd(KOMBU_UNACKED_INDEX_KEY, {"tag-dead-6-0": now})  # the new delivery's time
    # When the dead process is swept, then only its in-flight message goes back; the live one keeps its delivery
    assert reclaim_dead(client, DEAD_AFTER_S) == (1, 1)
    assert client.hexists(KOMBU_UNACKED_KEY, "tag-dead-6-0") and client.zscore(KOMBU_UNACKED_INDEX_KEY, "tag-dead-6-0")
