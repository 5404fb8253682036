"""Dead workers found by their heartbeat: their messages go back on their queues in seconds, not a visibility timeout.

Each worker process beats into ``slmq.alive`` (Redis time of its last beat) from a thread of its own, so the beat
goes on while a long model call holds the main thread. Every live worker also sweeps: a process whose beat is
older than ``SLMQ_WORKER_DEAD_AFTER_S`` is dead, and one Lua script puts back on their queues the messages it
held (its unacked messages, from ``slmq.owned:<process>``, where kombu still records them as delivered when it
received them, and its in-flight lists), removes kombu's unacked records of them, and forgets the process. The
script is atomic, so two sweepers at once move nothing twice, and kombu's visibility sweep finds nothing left.

A sweeper sweeps only after it has itself beaten without a gap for the dead-after time: after a Redis outage
(or this process being paused) every beat looks old, and the others must get a chance to beat again first.
A paused worker that wakes after its messages moved may still answer them; the first answer stored is the
one every later attempt returns (``workers.delivery``).
"""

import logging
import threading
import time
from collections.abc import Callable

import redis

from slmq.constants import ALIVE_KEY, INFLIGHT_KEY, KOMBU_UNACKED_INDEX_KEY, KOMBU_UNACKED_KEY, OWNED_KEY_PREFIX
from workers.transport import MARK_ALIVE, owner

log = logging.getLogger(__name__)
BEATS_PER_DEAD_AFTER = 6  # a live worker misses five beats in a row before it is taken for dead

# KEYS: alive set, in-flight set, unacked hash, unacked index. ARGV: dead after (s), owned prefix, in-flight prefix.
# Returns {processes found dead, messages put back}.
_RECLAIM = """
local now = redis.call('TIME')
local cutoff = now[1] + now[2] / 1000000 - tonumber(ARGV[1])
local dead, moved = 0, 0
for _, process in ipairs(redis.call('ZRANGE', KEYS[1], '-inf', cutoff, 'BYSCORE')) do
  dead = dead + 1
  local prefix = ARGV[3] .. process .. ':'
  for _, list in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    if string.sub(list, 1, #prefix) == prefix then
      local queue = string.sub(list, #prefix + 1)
      while redis.call('LMOVE', list, queue, 'LEFT', 'RIGHT') do moved = moved + 1 end
      redis.call('ZREM', KEYS[2], list)
    end
  end
  local owned = ARGV[2] .. process
  local held = redis.call('HGETALL', owned)
  for i = 1, #held, 2 do
    local tag, entry = held[i], held[i + 1]
    local first = string.find(entry, '\\n', 1, true)
    local second = string.find(entry, '\\n', first + 1, true)
    -- still unacked from this delivery (a re-delivery of the same message to another process has its own time)
    local delivered = redis.call('ZSCORE', KEYS[4], tag)
    if delivered and tonumber(delivered) == tonumber(string.sub(entry, first + 1, second - 1)) then
      redis.call('RPUSH', string.sub(entry, 1, first - 1), string.sub(entry, second + 1))
      redis.call('HDEL', KEYS[3], tag)
      redis.call('ZREM', KEYS[4], tag)
      moved = moved + 1
    end
  end
  redis.call('DEL', owned)
  redis.call('ZREM', KEYS[1], process)
end
return {dead, moved}
"""
_BEAT = MARK_ALIVE.format(key=1, arg=1)
_RECLAIM_KEYS = (ALIVE_KEY, INFLIGHT_KEY, KOMBU_UNACKED_KEY, KOMBU_UNACKED_INDEX_KEY)


def reclaim_dead(client: redis.Redis, dead_after_s: float) -> tuple[int, int]:
    """Put back the messages of every worker process whose beat is older than ``dead_after_s``: (dead, moved)."""
    args = (dead_after_s, OWNED_KEY_PREFIX, f"{INFLIGHT_KEY}:")
    dead, moved = client.eval(_RECLAIM, len(_RECLAIM_KEYS), *_RECLAIM_KEYS, *args)
    return int(dead), int(moved)


class Liveness:
    """This worker process's heartbeat, and its sweep for dead ones, on a thread of their own."""

    def __init__(self, client: redis.Redis, dead_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.dead_after_s = dead_after_s
        self.interval_s = dead_after_s / BEATS_PER_DEAD_AFTER
        self.clock = clock
        self._steady_since: float | None = None  # beating without a gap since then
        self._last_beat: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="slmq-liveness", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating. A clean shutdown has put its messages back; anything left over goes back once it looks dead."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5)

    def tick(self) -> tuple[int, int]:
        """One beat, then a sweep if this process has beaten steadily for the dead-after time: (dead, moved)."""
        now = self.clock()
        if self._last_beat is None or now - self._last_beat > 2 * self.interval_s:
            self._steady_since = None  # a gap: Redis was away, or this process was paused
        try:
            self.client.eval(_BEAT, 1, ALIVE_KEY, owner())
        except redis.RedisError as exc:
            log.warning("Cannot write this worker's heartbeat: %s", exc)
            self._last_beat = self._steady_since = None
            return 0, 0
        self._last_beat = now
        if self._steady_since is None:
            self._steady_since = now
        if now - self._steady_since < self.dead_after_s:
            return 0, 0
        try:
            dead, moved = reclaim_dead(self.client, self.dead_after_s)
        except redis.RedisError as exc:
            log.warning("Cannot sweep for dead workers: %s", exc)
            return 0, 0
        if dead:
            log.warning(
                "%d worker process(es) stopped beating for %gs (SLMQ_WORKER_DEAD_AFTER_S); put their %d "
                "message(s) back on their queues", dead, self.dead_after_s, moved,
            )  # fmt: skip
        return dead, moved

    def _run(self) -> None:
        while True:
            self.tick()
            if self._stop.wait(self.interval_s):
                return
