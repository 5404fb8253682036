"""``slmq status``: which workers run which model on which device, and how deep each queue is."""

import redis

from slmq.constants import PRIORITY_SUFFIXES, model_from_queue
from slmq.fleet import load_fleet
from slmq.settings import Settings
from slmq.stores.broker import create_app
from slmq.stores.connections import broker_client


def queue_depth(client: redis.Redis, queue: str) -> int:
    return sum(int(client.llen(queue + suffix)) for suffix in PRIORITY_SUFFIXES)


def fleet_status(settings: Settings) -> str:
    fleet = load_fleet(settings.fleet)
    app = create_app(settings)
    replies = app.control.inspect(timeout=1.0).active_queues() or {}
    client = broker_client(settings)
    rows: list[tuple[str, ...]] = [("WORKER", "MODEL", "DEVICE", "QUEUE")]
    for node, queues in sorted(replies.items()):
        device = node.split("@", 1)[1] if "@" in node else "?"
        for queue in queues:
            rows.append((node, model_from_queue(queue["name"]) or "-", device, queue["name"]))
    if len(rows) == 1:
        rows.append(("(no worker answered)", "", "", ""))
    lines = _table(rows)
    depths: list[tuple[str, ...]] = [("QUEUE", "MODEL", "DEPTH", "TASK TYPES")]
    for spec in fleet.models.values():
        depth = str(queue_depth(client, spec.queue))
        depths.append((spec.queue, spec.name, depth, ", ".join(fleet.task_types_of(spec.name))))
    return "\n".join([*lines, "", *_table(depths)])


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
