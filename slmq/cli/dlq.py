"""``slmq dlq list|show|retry|purge``: the dead-letter lists from the command line."""

import argparse
import time
from typing import Any

from slmq.errors import ConfigError
from slmq.settings import Settings


def register(commands: Any) -> None:
    """Add ``slmq dlq`` and its four actions to the command parser."""
    dlq = commands.add_parser("dlq", help="list, show, retry or purge dead-lettered messages")
    actions = dlq.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="one line per dead letter, oldest first")
    show = actions.add_parser("show", help="one dead letter as JSON: payload, reason, error, raw output")
    show.add_argument("task_id")
    retry = actions.add_parser("retry", help="re-publish dead letters under their original task ids")
    purge = actions.add_parser("purge", help="delete dead letters (their stored results stay)")
    for action in (retry, purge):
        action.add_argument("task_ids", nargs="*", metavar="TASK_ID", help="the dead letters to act on")
        action.add_argument("--all", action="store_true", help="every dead letter (of --queue, if given)")
    for action, handler in ((listing, _list), (show, _show), (retry, _retry), (purge, _purge)):
        action.add_argument("--queue", help="one queue, e.g. slmq.smollm2 (default: every queue)")
        action.set_defaults(handler=handler)


def _dead_letters(settings: Settings) -> Any:
    from slmq.fleet import load_fleet
    from slmq.stores.broker import create_app
    from slmq.stores.deadletters import DeadLetters

    fleet = load_fleet(settings.fleet) if settings.fleet.exists() else None
    return DeadLetters(create_app(settings), fleet)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    letters = _dead_letters(settings).list(args.queue)
    rows = [("TASK ID", "QUEUE", "TASK", "REASON", "ATTEMPTS", "AGE", "ERROR")]
    now = time.time()
    for letter in letters:
        age = f"{(now - letter.dead_lettered_at) / 60:.0f}m"
        error = letter.error if len(letter.error) <= 60 else letter.error[:57] + "..."
        rows.append(
            (letter.task_id, letter.queue, str(letter.task_type), letter.reason, str(letter.attempts), age, error)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    print(_dead_letters(settings).show(args.task_id, args.queue).model_dump_json(indent=2))
    return 0


def _retry(args: argparse.Namespace, settings: Settings) -> int:
    ids = _dead_letters(settings).retry(_chosen(args), args.queue)
    print(f"Re-published {len(ids)} dead letters under their original task ids.")
    return 0


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    count = _dead_letters(settings).purge(_chosen(args), args.queue)
    print(f"Purged {count} dead letters.")
    return 0


def _chosen(args: argparse.Namespace) -> list[str] | None:
    if args.task_ids and args.all:
        raise ConfigError("Give task ids or --all, not both.")
    if not args.task_ids and not args.all:
        raise ConfigError("Name the dead letters to act on (TASK_ID ...), or pass --all (with --queue for one queue).")
    return list(args.task_ids) or None
