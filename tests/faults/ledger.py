"""A ledger of every task sent and every result stored; its checker reports lost, duplicated and unexpected.

Results are observed twice: every store the result backend publishes (Redis pub/sub on the result
key, so a second store of one task id is seen even if it overwrote the first) and the final stored
value. A task is *lost* when it was enqueued and has no result by the deadline, *duplicated* when
two different answers were stored for its id, and *unexpected* when a result is stored, while the ledger
watches, for an id it never sent.
"""

import json
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import redis

from producer import FleetClient
from producer.client import TaskHandle
from slmq.constants import attempts_key, dead_letter_key
from slmq.errors import BrokerUnavailableError

RESULT_PREFIX = "celery-task-meta-"
SENTINEL = "ledger-drain-"


@dataclass
class Report:
    """What the checker found."""

    sent: int
    refused: int
    answered: int
    lost: list[str]
    duplicated: list[str]
    unexpected: list[str]
    restored: list[str]  # stored more than once with the same answer (a re-delivery answered from its stored result)
    dead_lettered: list[str]
    dead_letters_unaccounted: list[str]
    redelivered: int  # tasks whose message reached a worker's model step more than once
    outcomes: dict[str, int] = field(default_factory=dict)

    def problems(self) -> list[str]:
        found = {"lost": self.lost, "duplicated": self.duplicated, "unexpected": self.unexpected}
        found["dead letters missing from the dead-letter list"] = self.dead_letters_unaccounted
        return [f"{name}: {ids[:5]} ({len(ids)})" for name, ids in found.items() if ids]

    def summary(self) -> str:
        return (
            f"sent {self.sent}, refused at submit {self.refused}, answered {self.answered}, lost {len(self.lost)}, "
            f"duplicated {len(self.duplicated)}, unexpected {len(self.unexpected)}, re-stored same answer "
            f"{len(self.restored)}, re-delivered {self.redelivered}, dead-lettered {len(self.dead_lettered)}; "
            f"outcomes {self.outcomes}"
        )


class Ledger:
    """Sends tasks through a FleetClient and watches every result the backend stores."""

    def __init__(self, client: FleetClient, redis_url: str, queue: str) -> None:
        self.client = client
        self.redis_url = redis_url
        self.queue = queue
        self.sent: dict[str, str] = {}  # task id -> task type
        self.handles: dict[str, TaskHandle] = {}
        self.refused: dict[str, str] = {}  # task id -> error: the producer was told, maybe enqueued anyway
        self.stores: dict[str, list[tuple[str, str]]] = defaultdict(list)  # task id -> (status, result) per store
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._listener = threading.Thread(target=self._listen, daemon=True)
        self._listener.start()
        if not self._subscribed.wait(30):
            raise AssertionError("the ledger could not subscribe to the result backend")

    def submit(self, task_type: str, text: str, task_id: str | None = None) -> str:
        """Send one task; a BrokerUnavailableError is recorded as refused (the caller was told), not raised."""
        task_id = task_id or str(uuid.uuid4())
        try:
            self.handles[task_id] = self.client.submit(task_type, text, task_id=task_id)
        except BrokerUnavailableError as exc:
            self.refused[task_id] = f"{type(exc).__name__}: {exc}"
            return task_id
        self.sent[task_id] = task_type
        self.refused.pop(task_id, None)  # submitted again after a refusal, under the same id
        return task_id

    def pending(self) -> list[str]:
        """Enqueued task ids that have no final result yet."""
        finals = self.finals(list(self.sent))
        return [task_id for task_id in self.sent if task_id not in finals]

    def wait(self, timeout: float, ids: list[str] | None = None) -> None:
        """Wait until every enqueued task (or every one of ``ids``) has a final result, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        wanted = ids if ids is not None else list(self.sent)
        while time.monotonic() < deadline:
            try:
                if len(self.finals(wanted)) == len(wanted):
                    return
            except redis.RedisError:
                pass  # Redis is down or restarting: keep waiting
            time.sleep(0.25)

    def finals(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored result meta of each id that has a final (SUCCESS or FAILURE) result."""
        if not ids:
            return {}
        client = redis.Redis.from_url(self.redis_url, socket_timeout=5)
        values = client.mget([RESULT_PREFIX + task_id for task_id in ids])
        metas = {task_id: json.loads(value) for task_id, value in zip(ids, values, strict=True) if value}
        return {task_id: meta for task_id, meta in metas.items() if meta.get("status") in ("SUCCESS", "FAILURE")}

    def close(self) -> None:
        """Stop the listener thread."""
        self._stop.set()

    def check(self) -> Report:
        """Compare what was sent with what was stored (after the listener has read every store so far)."""
        client = redis.Redis.from_url(self.redis_url, socket_timeout=5)
        self._drain(client)
        self.close()
        finals = self.finals(list(self.sent) + list(self.refused))
        dead_letters = {key.decode() for key in client.hkeys(dead_letter_key(self.queue))}
        outcomes: dict[str, int] = defaultdict(int)
        dead_lettered = []
        for meta in finals.values():
            kind = meta["result"].get("exc_type") if meta["status"] == "FAILURE" else "ok"
            outcomes[str(kind)] += 1
            if kind == "DeadLetteredError":
                dead_lettered.append(meta["task_id"])
        known = set(self.sent) | set(self.refused)
        attempts = client.mget([attempts_key(task_id) for task_id in known]) if known else []
        return Report(
            sent=len(self.sent),
            refused=len(self.refused),
            answered=len([task_id for task_id in self.sent if task_id in finals]),
            lost=[task_id for task_id in self.sent if task_id not in finals],
            duplicated=[task_id for task_id, stores in self.stores.items() if len(set(stores)) > 1],
            unexpected=sorted(task_id for task_id in set(self.stores) - known if not task_id.startswith(SENTINEL)),
            restored=[task_id for task_id, stores in self.stores.items() if len(stores) > 1 and len(set(stores)) == 1],
            dead_lettered=dead_lettered,
            dead_letters_unaccounted=[task_id for task_id in dead_lettered if task_id not in dead_letters],
            redelivered=sum(int(value) > 1 for value in attempts if value is not None),
            outcomes=dict(outcomes),
        )

    def _drain(self, client: redis.Redis, timeout: float = 30) -> None:
        # Pub/sub keeps order per connection: once a marker published now arrives, every earlier store has.
        marker = f"{SENTINEL}{uuid.uuid4()}"
        deadline = time.monotonic() + timeout
        while marker not in self.stores and time.monotonic() < deadline:
            client.publish(RESULT_PREFIX + marker, json.dumps({"status": "SUCCESS", "result": None}))
            time.sleep(0.2)
        self.stores.pop(marker, None)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(self.redis_url, socket_timeout=None)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(f"{RESULT_PREFIX}*")
                self._subscribed.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None and message["type"] == "pmessage":
                        self._record(message["channel"].decode(), message["data"])
            except (redis.RedisError, OSError):
                time.sleep(0.2)  # Redis was killed or restarted: subscribe again

    def _record(self, channel: str, data: bytes) -> None:
        meta = json.loads(data)
        if meta.get("status") in ("SUCCESS", "FAILURE"):
            result = json.dumps(meta.get("result"), sort_keys=True)
            self.stores[channel[len(RESULT_PREFIX) :]].append((str(meta["status"]), result))
