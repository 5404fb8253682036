"""The ``slmq`` command: workers, single submissions, bulk parsing, fleet status, Flower and metrics."""

import argparse
import logging
import sys
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from slmq.batchfile import OutputLines, input_file, output_file, read_lines
from slmq.cli import dlq, evaluate, finetune, job
from slmq.cli.spawn import worker_for
from slmq.errors import SlmqError
from slmq.schemas import TASK_TYPE_SPECS, confidence_of
from slmq.settings import Settings, load_settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: list[str] | None = None) -> int:
    try:
        # The files and folders the command names are checked here (slmq.batchfile's argument types), before
        # anything connects or starts; one that cannot be used is a bad command line: exit 2, as argparse's own.
        args = _parser().parse_args(argv)
    except SlmqError as exc:
        return _fail(exc, 2)
    try:
        settings = load_settings()
        return int(args.handler(args, settings))
    except SlmqError as exc:
        return _fail(exc, 1)
    except KeyboardInterrupt:
        return 130


def _fail(exc: SlmqError, status: int) -> int:
    print(f"slmq: {type(exc).__name__}: {exc}", file=sys.stderr)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slmq", description="A fleet of small language models behind Celery queues.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    worker = commands.add_parser("worker", help="run a worker that holds one model and consumes its queue")
    worker.add_argument("--model", required=True, help="model name from the fleet file")
    worker.add_argument("--device", help="cpu or cuda:N (default: the model's device in the fleet file)")
    worker.add_argument("--node-name", help="Celery node name (default: <model>@<device>)")
    worker.add_argument(
        "--threads", type=_positive_int, metavar="N",
        help="torch threads (default: the model's threads in the fleet file, else cores / SLMQ_WORKERS_PER_HOST)",
    )  # fmt: skip
    worker.set_defaults(handler=_worker)

    submit = commands.add_parser("submit", help="run one task and print its result as JSON")
    submit.add_argument("task", help="task type, e.g. delivery_note")
    submit.add_argument("text", help="the input text, or - to read it from stdin")
    _add_client_options(submit)
    submit.set_defaults(handler=_submit)

    parse = commands.add_parser("parse", help="run every line of a JSONL file through the fleet")
    parse.add_argument("input", type=input_file, help='JSONL file with lines {"id": ..., "text": ...}')
    parse.add_argument("-o", "--output", type=output_file, help="output JSONL file (default: stdout)")
    parse.add_argument("--task", default="delivery_note", help="task type (default: delivery_note)")
    job.add_review_options(parse)
    _add_client_options(parse)
    parse.set_defaults(handler=_parse)

    status = commands.add_parser("status", help="show workers, their models and devices, and queue depths")
    status.set_defaults(handler=_status)

    flower = commands.add_parser("flower", help="run Flower on the fleet's broker, behind basic auth")
    flower.add_argument("--address", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    flower.add_argument("--port", type=int, default=5555, help="port to listen on (default: 5555)")
    flower.add_argument(
        "--allow-control", action="store_true", help="let Flower shut workers down, revoke and send tasks"
    )
    flower.set_defaults(handler=_flower)

    metrics = commands.add_parser("metrics", help="serve the fleet's metrics in Prometheus format")
    metrics.add_argument("--address", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    metrics.add_argument("--port", type=int, default=9808, help="port to listen on (default: 9808)")
    metrics.set_defaults(handler=_metrics)
    finetune.register(commands)
    evaluate.register(commands)
    job.register(commands)
    dlq.register(commands)
    return parser


def _add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each result")
    parser.add_argument("--no-spawn", action="store_true", help="never start a local worker")


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    # Start-up (the model's fetch and load) logs before Celery takes over the root logger.
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    from workers.main import run_worker

    run_worker(settings, args.model, device=args.device, node_name=args.node_name, threads=args.threads)
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _submit(args: argparse.Namespace, settings: Settings) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    client = _client(settings)
    handle = client.submit(args.task, text)
    with worker_for(client, args.task, args.no_spawn):
        result = handle.get(timeout=args.timeout)
    print(result.model_dump_json(indent=2))
    return 0


def _parse(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    client = _client(settings)
    model = client.fleet.model_for(args.task).name
    fields = set(TASK_TYPE_SPECS[args.task].request.model_fields) if args.task in TASK_TYPE_SPECS else {"text"}
    total = sum(1 for _ in read_lines(args.input, "jsonl", fields))
    failed = 0
    with OutputLines(args.output, args.review_below, args.review) as out, worker_for(client, args.task, args.no_spawn):
        ids: list[str] = []

        def payloads() -> Iterator[dict[str, Any] | SlmqError]:
            for line in read_lines(args.input, "jsonl", fields):
                ids.append(line.id)
                yield line.payload  # a line that is no payload is its error, which map() answers in its place

        results = client.map(args.task, payloads(), timeout=args.timeout, return_errors=True)
        for index, outcome in enumerate(tqdm(results, total=total, unit="line", file=sys.stderr)):
            record = _record(ids[index], args.task, model, outcome)
            failed += record["error"] is not None
            out.write(record)
    print(f"slmq: {total} lines, {total - failed} parsed, {failed} failed{out.summary()}.", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from slmq.stores.status import fleet_status

    print(fleet_status(settings))
    return 0


def _flower(args: argparse.Namespace, settings: Settings) -> int:
    from slmq.cli.flower import run_flower

    return run_flower(settings, args.address, args.port, args.allow_control)


def _metrics(args: argparse.Namespace, settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    from slmq.cli.exporter import serve

    serve(settings, args.address, args.port)
    return 0


def _client(settings: Settings) -> Any:
    from producer import FleetClient

    return FleetClient(settings)


def _record(line_id: str, task: str, model: str, outcome: BaseModel | SlmqError) -> dict[str, Any]:
    if isinstance(outcome, SlmqError):
        error = {"type": type(outcome).__name__, "message": outcome.message}
        return {"id": line_id, "task": task, "model": model, "result": None, "error": error}
    confidence = confidence_of(outcome)
    extra = {"confidence": confidence} if confidence is not None else {}
    return {"id": line_id, "task": task, "model": model, "result": outcome.model_dump(mode="json"), **extra,
            "error": None}  # fmt: skip
