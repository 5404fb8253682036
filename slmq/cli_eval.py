"""The ``slmq synth`` and ``slmq eval`` commands: synthetic training data and evaluation against gold records."""

import argparse
import json
import sys
from typing import Any

from slmq.batchfile import output_file, utf8_file
from slmq.errors import InvalidPayloadError
from slmq.settings import Settings
from slmq.spawn import worker_for

SYNTH_TASKS = ("delivery_note",)
EVAL_TASKS = ("delivery_note",)


def register(commands: Any) -> None:
    """Add ``synth`` and ``eval`` to the ``slmq`` command's subparsers."""
    synth = commands.add_parser("synth", help="generate synthetic notes with gold records (JSONL)")
    synth.add_argument("task", choices=SYNTH_TASKS, help="task type to generate data for")
    synth.add_argument("--count", type=int, required=True, help="number of notes")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    synth.add_argument("--split", choices=("train", "heldout"), default="train", help="value pools to draw from")
    synth.add_argument("-o", "--output", type=output_file, help="output JSONL file (default: stdout)")
    synth.set_defaults(handler=_synth)

    evaluate = commands.add_parser("eval", help="run labelled notes through the fleet and score the answers")
    evaluate.add_argument("task", choices=EVAL_TASKS, help="task type to evaluate")
    evaluate.add_argument("input", type=utf8_file, help='labelled JSONL file with lines {"id", "text", "gold"}')
    evaluate.add_argument(
        "-o", "--output", type=output_file, help="write each note's answer, gold, counts and mistakes (JSONL)"
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument("--limit", type=int, help="evaluate only the first N notes")
    evaluate.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each result")
    evaluate.add_argument("--no-spawn", action="store_true", help="never start a local worker")
    evaluate.set_defaults(handler=_eval)


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


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from producer import FleetClient
    from slmq.evaluation import evaluate, format_report, load_labelled, write_answers

    if args.limit is not None and args.limit < 1:
        raise InvalidPayloadError(f"--limit must be at least 1, got {args.limit}.")
    records = load_labelled(args.input)[: args.limit]
    client = FleetClient(settings)
    model = client.fleet.model_for(args.task).name
    with worker_for(client, args.task, args.no_spawn), tqdm(total=len(records), unit="note", file=sys.stderr) as bar:
        result = evaluate(client, records, timeout=args.timeout, on_prediction=lambda _: bar.update())
    if args.output:
        write_answers(args.output, result, records)
    if args.json:
        print(json.dumps({"task": args.task, "file": str(args.input), "model": model, **result.report.as_dict()}))
    else:
        print(format_report(result.report, f"{args.task} on {args.input} (model {model})"))
    return 0
