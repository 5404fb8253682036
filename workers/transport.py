"""kombu's Redis transport, changed so that a message popped as Redis fails is not lost.

- **No pop window** (celery#7950). kombu pops with ``BRPOP`` and records the message as unacked with a
  second command: a Redis crash between the two (the pop already in the append-only file, the reply
  not yet at the worker) loses the message. Here a worker that consumes one list pops with
  ``BLMOVE`` into an in-flight list of its own (``slmq.inflight:<process>:<queue>``), and one Lua
  script records the message as unacked and takes it off that list. Whatever sits in an in-flight
  list was popped and never received: the owner puts its list back on the queue before each pop
  (after a reconnect, that is the message whose reply was lost), and the visibility-timeout sweep
  puts back the lists of processes that stopped popping (a killed worker). The owners' last pops are
  kept in the ``slmq.inflight`` sorted set. Consumers of several lists, Redis older than 6.2 and a
  ``global_keyprefix`` keep kombu's ``BRPOP``.
- A message received just as Redis went away is not lost either: it stays on the in-flight list (or,
  with ``BRPOP``, is kept in this process and pushed back on its queue as soon as Redis answers).
- A queue item that is not a message is discarded, not fatal: kombu decodes each popped item inside
  the worker's event loop, and garbage bytes pushed onto a queue (anyone who can write to Redis can)
  raise there and stop the worker ("Unrecoverable error"). Dropping it, with a log line that does not
  quote it, loses nothing that was a message.
- Closing a channel whose connection is already gone does not stop the worker (see QoS.restore_unacked_once).
- **Ownership, for liveness.** Each unacked message a BLMOVE consumer holds is also recorded under its process
  (``slmq.owned:<process>``: delivery tag -> queue, delivery time and the message as popped), written in the same
  script as kombu's unacked record and removed with it. ``workers/liveness.py`` puts a dead process's
  messages back on their queues from there, within seconds instead of a visibility timeout.
"""

import logging
import os
import threading
import time
import uuid
from queue import Empty
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis
from kombu.transport.virtual import QoS as VirtualQoS
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads

from slmq.constants import ALIVE_KEY, INFLIGHT_KEY, inflight_key, owned_key

log = logging.getLogger(__name__)
INFLIGHT = INFLIGHT_KEY
_PROCESS = uuid.uuid4().hex[:12]  # with the pid: unique per process, forked children included
# Messages popped with BRPOP but not recorded as unacked (Redis went away in between): (payload, exchange, routing key).
_orphans: list[tuple[dict[str, Any], str, str]] = []
_orphans_lock = threading.Lock()

# Each script that shows a process is alive marks it so in the server's clock, the one every host reads.
MARK_ALIVE = "local now = redis.call('TIME'); redis.call('ZADD', KEYS[{key}], now[1] + now[2] / 1000000, ARGV[{arg}])"
# KEYS: unacked index, unacked hash, in-flight list, owned hash, alive set.
# ARGV: delivery tag, time, unacked record, popped item, queue, owner.
_RECORD_UNACKED = f"""
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('LREM', KEYS[3], 1, ARGV[4])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[5] .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[4])
{MARK_ALIVE.format(key=5, arg=6)}
"""
# KEYS: the in-flight set, this consumer's list, its queue, the alive set. ARGV: time, owner.
# Returns how many went back.
_TOUCH_AND_RESTORE_OWN = f"""
redis.call('ZADD', KEYS[1], ARGV[1], KEYS[2])
{MARK_ALIVE.format(key=4, arg=2)}
local moved = 0
while redis.call('LMOVE', KEYS[2], KEYS[3], 'LEFT', 'RIGHT') do moved = moved + 1 end
return moved
"""
# KEYS: the in-flight set. ARGV: lists whose owner last popped before this time go back. Returns the count.
_RESTORE_ABANDONED = """
local moved = 0
for _, list in ipairs(redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE')) do
  local queue = string.match(list, '^[^:]*:[^:]*:(.+)$')
  if queue then
    while redis.call('LMOVE', list, queue, 'LEFT', 'RIGHT') do moved = moved + 1 end
  end
  redis.call('ZREM', KEYS[1], list)
end
return moved
"""


def owner() -> str:
    """This process's name in the in-flight lists, the owned hashes and the alive set."""
    return f"{_PROCESS}-{os.getpid()}"


def inflight_list(queue: str) -> str:
    """This process's in-flight list for ``queue``.

    One per process rather than per channel, so that a channel opened after a reconnect puts back the
    message whose reply the old one lost, at once. That assumes one channel per process pops a given
    queue, as in a Celery worker (its remote-control queues are fanout, read with SUBSCRIBE, not popped).
    """
    return inflight_key(owner(), queue)


class QoS(kombu_redis.QoS):
    def append(self, message: Any, delivery_tag: Any) -> None:
        popped = self.channel.popped
        if popped is None:
            self._append_brpopped(message, delivery_tag)
            return
        delivery = message.delivery_info
        record = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])  # type: ignore[no-untyped-call]
        inflight, item, queue = popped
        keys = (self.unacked_index_key, self.unacked_key, inflight, owned_key(owner()), ALIVE_KEY)
        with self.channel.conn_or_acquire() as client:
            client.eval(_RECORD_UNACKED, len(keys), *keys, delivery_tag, time.time(), record, item, queue, owner())
        VirtualQoS.append(self, message, delivery_tag)  # type: ignore[no-untyped-call]  # the in-memory record

    def _remove_from_indices(self, delivery_tag: Any, pipe: Any = None) -> Any:
        # Acked, rejected or restored: this process no longer holds it (a no-op for a BRPOP consumer).
        return super()._remove_from_indices(delivery_tag, pipe).hdel(owned_key(owner()), delivery_tag)  # type: ignore[no-untyped-call]

    def _append_brpopped(self, message: Any, delivery_tag: Any) -> None:
        try:
            super().append(message, delivery_tag)  # type: ignore[no-untyped-call]
        except self.channel.connection_errors:
            delivery = message.delivery_info
            with _orphans_lock:
                _orphans.append((message._raw, delivery["exchange"], delivery["routing_key"]))
            log.warning(
                "Redis went away as message %s was popped; it goes back on its queue on reconnect", delivery_tag
            )
            raise

    def restore_visible(self, start: int = 0, num: int = 10, interval: int = 10) -> None:
        super().restore_visible(start, num, interval)  # type: ignore[no-untyped-call]
        if (self._vrestore_count - 1) % (interval or 1):
            return
        with self.channel.conn_or_acquire() as client:
            moved = client.eval(_RESTORE_ABANDONED, 1, INFLIGHT, time.time() - self.visibility_timeout)
        if moved:
            log.warning("Put %d message(s) popped by consumers that stopped back on their queues", moved)

    def restore_unacked_once(self, stderr: Any = None) -> Any:
        # On a reconnect kombu closes the old channel after its connection object is gone; restoring then
        # raises AttributeError inside kombu and stops the worker ("Unrecoverable error"). The messages stay
        # in the unacked hash, and the visibility-timeout sweep puts them back on their queues.
        try:
            return super().restore_unacked_once(stderr)  # type: ignore[no-untyped-call]
        except AttributeError:
            log.warning("Unacked messages not restored as the broker connection closed; they return after the "
                        "visibility timeout")  # fmt: skip
            return None


class Channel(kombu_redis.Channel):
    QoS = QoS
    # (in-flight list, raw item, queue) of the message being delivered, read by QoS.append.
    popped: tuple[str, bytes, str] | None = None
    _moving: tuple[str, str] | None = None  # (queue, in-flight list) of the BLMOVE in flight
    _server_moves: bool | None = None  # whether the server has BLMOVE (Redis >= 6.2); asked once

    def _brpop_start(self, timeout: Any = None) -> None:
        queues = self._queue_cycle.consume(len(self.active_queues))
        if len(queues) != 1 or not self._moves():
            self._restore_orphans()
            super()._brpop_start(timeout)  # type: ignore[no-untyped-call]
            return
        queue, inflight = queues[0], inflight_list(queues[0])
        with self.conn_or_acquire() as client:
            moved = client.eval(_TOUCH_AND_RESTORE_OWN, 4, INFLIGHT, inflight, queue, ALIVE_KEY, time.time(), owner())
        if moved:
            log.warning("Put %d message(s) popped as the broker connection failed back on queue %s", moved, queue)
        self._in_poll = self.client.connection
        self._brpop_sent_at = time.monotonic()  # type: ignore[assignment]
        self._moving = (queue, inflight)
        timeout = self.brpop_timeout if timeout is None else timeout
        self.client.connection.send_command("BLMOVE", queue, inflight, "RIGHT", "LEFT", timeout or 0)

    def _brpop_read(self, **options: Any) -> bool:
        moving, self._moving = self._moving, None
        try:
            try:
                reply = self.client.parse_response(
                    self.client.connection, "BRPOP" if moving is None else "BLMOVE", **options
                )
            except self.connection_errors:
                self.client.connection.disconnect()  # the next poll reconnects, and puts the item back if moved
                raise
            if not reply:
                raise Empty()
            if moving is None:
                destination, item = reply
                queue, popped = bytes_to_str(destination).rsplit(self.sep, 1)[0], None  # type: ignore[no-untyped-call]
            else:
                queue, item = moving[0], reply
                popped = (moving[1], item, queue)
            self._queue_cycle.rotate(queue)
            payload = self._decode(item, popped)
            if payload is not None:  # outside any except: a failure in the delivery (the batch) is a real error
                self.popped = popped
                try:
                    self.connection._deliver(payload, queue)
                finally:
                    self.popped = None
            return True
        finally:
            self._in_poll = None  # type: ignore[assignment]
            self._flush_brpop_reauth()  # type: ignore[no-untyped-call]

    def _decode(self, item: bytes, popped: tuple[str, bytes, str] | None) -> dict[str, Any] | None:
        """The message in a popped item; None for an item that is not one, which is dropped (it was no message)."""
        try:
            payload: dict[str, Any] = loads(bytes_to_str(item))  # type: ignore[no-untyped-call]
            message = self.Message(payload, channel=self)  # type: ignore[no-untyped-call]  # what kombu reads first
            if not {"exchange", "routing_key"} <= set(message.delivery_info):  # and QoS.append next
                raise KeyError("delivery_info")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # not JSON, or JSON but not a message
            log.error("Discarded a queue item that is not a task message (%s); its content is not logged", exc)
            if popped is not None:
                with self.conn_or_acquire() as client:
                    client.lrem(popped[0], 1, popped[1])
            return None
        return payload

    def _moves(self) -> bool:
        """Whether this channel pops with BLMOVE: one list, no priorities, no key prefix, Redis 6.2 or later."""
        one = len(self.active_queues) == 1 and self.priority_steps == [0] and not self.global_keyprefix
        return one and self._has_blmove()

    def _has_blmove(self) -> bool:
        if self._server_moves is None:
            with self.conn_or_acquire() as client:
                version = str(client.info("server").get("redis_version", "0"))
            self._server_moves = tuple(int(part) for part in version.split(".")[:2]) >= (6, 2)
            if not self._server_moves:
                log.warning("Redis %s has no BLMOVE: a message popped as Redis crashes can be lost", version)
        return self._server_moves

    def _restore_orphans(self) -> None:
        with _orphans_lock:
            if not _orphans:
                return
            orphans = list(_orphans)
            try:
                with self.client.pipeline() as pipe:
                    for payload, exchange, routing_key in orphans:
                        self._do_restore_message(payload, exchange, routing_key, pipe, leftmost=True)  # type: ignore[no-untyped-call]
                    pipe.execute()
            except self.connection_errors:
                return  # Redis is still away: next poll
            del _orphans[: len(orphans)]
        log.warning("Pushed %d messages popped during a Redis outage back onto their queues", len(orphans))


class Transport(kombu_redis.Transport):
    Channel = Channel


def install() -> None:
    """Make this process's redis:// and rediss:// connections use this transport."""
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
