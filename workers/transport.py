"""kombu's Redis transport with three changes, about popping a message and losing the connection.

- A queue item that is not a message is discarded, not fatal: kombu decodes each popped item inside
  the worker's event loop, and garbage bytes pushed onto a queue (anyone who can write to Redis can)
  raise there and stop the worker ("Unrecoverable error"). Dropping it, with a log line that does not
  quote it, loses nothing that was a message.
- A message popped just before Redis went away is not lost (celery#7950): kombu pops with BRPOP and
  records the message as unacked with a second command; if that one fails, the message exists only in
  this process. It is kept here and pushed back onto its queue as soon as Redis answers again.
- Closing a channel whose connection is already gone does not stop the worker (see QoS.restore_unacked_once).
"""

import logging
import threading
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)
# Messages popped but not recorded as unacked (Redis went away in between): (payload, exchange, routing key).
_orphans: list[tuple[dict[str, Any], str, str]] = []
_orphans_lock = threading.Lock()


class QoS(kombu_redis.QoS):
    def append(self, message: Any, delivery_tag: Any) -> None:
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

    def _brpop_start(self, timeout: Any = None) -> None:
        self._restore_orphans()
        super()._brpop_start(timeout)  # type: ignore[no-untyped-call]

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

    def _brpop_read(self, **options: Any) -> bool:
        try:
            return bool(super()._brpop_read(**options))  # type: ignore[no-untyped-call]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # not JSON, or JSON but not a message
            log.error("Discarded a queue item that is not a task message (%s); its content is not logged", exc)
            return True


class Transport(kombu_redis.Transport):
    Channel = Channel


def install() -> None:
    """Make this process's redis:// and rediss:// connections use this transport."""
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
