"""The ``slmq synth`` and ``slmq eval`` commands: synthetic training data and evaluation against gold records."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from slmq.errors import InvalidPayloadError
from slmq.settings import Settings

SYNTH_TASKS = ("delivery_note",)


def register(commands: Any) -> None:
    """Add ``synth`` and ``eval`` to the ``slmq`` command's subparsers."""
    synth = commands.add_parser("synth", help="generate synthetic notes with gold records (JSONL)")
    synth.add_argument("task", choices=SYNTH_TASKS, help="task type to generate data for")
    synth.add_argument("--count", type=int, required=True, help="number of notes")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    synth.add_argument("--split", choices=("train", "heldout"), default="train", help="value pools to draw from")
    synth.add_argument("-o", "--output", type=Path, help="output JSONL file (default: stdout)")
    synth.set_defaults(handler=_synth)


def _synth(args: argparse.Namespace, settings: Settings) -> int:
    from slmq.notegen import DATA_VERSION, generate

    if args.count < 1:
        raise InvalidPayloadError(f"--count must be at least 1, got {args.count}.")
    out = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
    try:
        for record in generate(args.count, args.seed, args.split):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if args.output:
            out.close()
    where = args.output or "stdout"
    print(f"slmq: {args.count} {args.split} notes ({DATA_VERSION}, seed {args.seed}) to {where}.", file=sys.stderr)
    return 0
