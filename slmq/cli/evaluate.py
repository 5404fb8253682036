"""The ``slmq synth`` and ``slmq eval`` commands: synthetic training data and evaluation against gold records."""

import argparse
import json
import sys
from typing import Any

from slmq.batchfile import output_file, utf8_file
from slmq.cli.spawn import worker_for
from slmq.errors import ConfigError, InvalidPayloadError
from slmq.settings import Settings

SYNTH_TASKS = ("delivery_note",)
EVAL_TASKS = ("delivery_note",)
TIMEOUT = 600.0


def register(commands: Any) -> None:
    """Add ``synth`` and ``eval`` to the ``slmq`` command's subparsers."""
    synth = commands.add_parser("synth", help="generate synthetic notes with gold records (JSONL)")
    synth.add_argument("task", choices=SYNTH_TASKS, help="task type to generate data for")
    synth.add_argument("--count", type=int, required=True, help="number of notes")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    synth.add_argument(
        "--split", choices=("train", "heldout", "disjoint"), default="train",
        help="value pools to draw from; disjoint: other layouts and phrasings, for evaluation only",
    )  # fmt: skip
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
    evaluate.add_argument("--timeout", type=float, help=f"seconds to wait for each result (default: {TIMEOUT:g})")
    evaluate.add_argument("--no-spawn", action="store_true", help="never start a local worker")
    evaluate.add_argument(
        "--compare", nargs=2, type=utf8_file, metavar=("A.jsonl", "B.jsonl"),
        help="run nothing: score two answers files written by -o against the input's gold, side by side",
    )  # fmt: skip
    evaluate.set_defaults(handler=_eval)


def _synth(args: argparse.Namespace, settings: Settings) -> int:
    from slmq.training.notegen import DATA_VERSION, generate

    if args.count < 1:
        raise InvalidPayloadError(f"--count must be at least 1, got {args.count}.")
    if args.output is None:
        for record in generate(args.count, args.seed, args.split):
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:  # written beside, then renamed: a run that fails leaves a file given with -o as it was
        partial = args.output.with_name(args.output.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8") as out:
                for record in generate(args.count, args.seed, args.split):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            partial.replace(args.output)
        finally:
            partial.unlink(missing_ok=True)
    where = args.output or "stdout"
    print(f"slmq: {args.count} {args.split} notes ({DATA_VERSION}, seed {args.seed}) to {where}.", file=sys.stderr)
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.limit is not None and args.limit < 1:
        raise InvalidPayloadError(f"--limit must be at least 1, got {args.limit}.")
    if args.compare:
        return _compare(args)
    from tqdm import tqdm

    from producer import FleetClient
    from slmq.training.evaluation import evaluate, format_report, load_labelled, write_answers

    records = load_labelled(args.input)[: args.limit]
    client = FleetClient(settings)
    model = client.fleet.model_for(args.task).name
    timeout = TIMEOUT if args.timeout is None else args.timeout
    with worker_for(client, args.task, args.no_spawn), tqdm(total=len(records), unit="note", file=sys.stderr) as bar:
        result = evaluate(client, records, timeout=timeout, on_prediction=lambda _: bar.update())
    if args.output:
        write_answers(args.output, result, records)
    if args.json:
        print(json.dumps({"task": args.task, "file": str(args.input), "model": model, **result.report.as_dict()}))
    else:
        print(format_report(result.report, f"{args.task} on {args.input} (model {model})"))
    return 0


def _compare(args: argparse.Namespace) -> int:
    """``--compare A B``: both answers files rescored against the input's gold; no broker, no worker."""
    from slmq.training.evaluation import compare, format_comparison, load_labelled

    fleet_options = {"-o": args.output is not None, "--timeout": args.timeout is not None, "--no-spawn": args.no_spawn}
    if given := [name for name, used in fleet_options.items() if used]:
        raise ConfigError(
            f"--compare reads two answers files and runs nothing; leave out {' and '.join(given)}, which are for "
            "running the fleet (run each fleet with slmq eval -o first, then compare the two files)."
        )
    a, b = args.compare
    comparison = compare(load_labelled(args.input), args.input, a, b, args.limit)
    if args.json:
        report = comparison.as_dict()
        report["a"], report["b"] = {"answers": str(a), **report["a"]}, {"answers": str(b), **report["b"]}
        print(json.dumps({"task": args.task, "file": str(args.input), **report}))
    else:
        print(format_comparison(comparison, f"{args.task} on {args.input}: two answers files", str(a), str(b)))
    return 0
