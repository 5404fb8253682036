"""kombu's Redis transport with one change: a queue item that is not a message is discarded, not fatal.

kombu decodes each popped item inside the worker's event loop; garbage bytes pushed onto a queue
(anyone who can write to Redis can do it) raise there and stop the worker ("Unrecoverable error").
The item is already popped, so dropping it with a log line (no body) loses nothing that was a message.
"""

import logging
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)


class Channel(kombu_redis.Channel):
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
