"""``slmq job ...`` (batch jobs) and ``slmq beat`` (scheduled pipelines); registered by ``slmq.cli.main``."""

import argparse
import json
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from slmq.batchfile import FORMATS, OutputLines, input_source, output_file
from slmq.settings import Settings
from slmq.stores.jobstore import JobState, JobStatus

if TYPE_CHECKING:
    from producer.jobs import Job

WATCH_POLL_S = 0.5


def register(commands: Any) -> None:
    """Add ``job`` (with its subcommands) and ``beat`` to the ``slmq`` parser."""
    job = commands.add_parser("job", help="batch jobs: submit a file, watch it, read its results, retry, cancel")
    verbs = job.add_subparsers(required=True, metavar="VERB")

    submit = verbs.add_parser("submit", help="submit a file or folder as a job; prints the job id at once")
    submit.add_argument(
        "input", type=input_source, help='JSONL {"id", "text"}, an OpenAI batch file, or a folder of .txt/.eml'
    )
    submit.add_argument("--task", default="delivery_note", help="task type (default: delivery_note)")
    submit.add_argument("--format", choices=FORMATS, help="input format (default: detected)")
    _add_feed_options(submit)
    submit.set_defaults(handler=_submit)

    resume = verbs.add_parser("resume", help="feed the lines of a job that have no record yet (after a crash)")
    resume.add_argument("job", help="job id")
    _add_feed_options(resume)
    resume.set_defaults(handler=_resume)

    for name, handler, text in (
        ("status", _status, "show a job's counters"),
        ("watch", _watch, "show a live progress bar until the job finishes, then its summary"),
        ("cancel", _cancel, "stop feeding a job's lines"),
    ):
        verb = verbs.add_parser(name, help=text)
        verb.add_argument("job", help="job id")
        verb.set_defaults(handler=handler)

    results = verbs.add_parser("results", help="write a finished job's records, one per input line, in order")
    results.add_argument("job", help="job id")
    results.add_argument("-o", "--output", type=output_file, help="output JSONL file (default: stdout)")
    results.add_argument("--partial", action="store_true", help="write the lines done so far of an unfinished job")
    add_review_options(results)
    results.set_defaults(handler=_results)

    retry = verbs.add_parser("retry", help="run a job's failed lines again (from its input)")
    retry.add_argument("job", help="job id")
    _add_feed_options(retry)
    retry.set_defaults(handler=_retry)

    beat = commands.add_parser("beat", help="run the scheduler of fleet.toml's pipelines and the pipelines it sends")
    beat.add_argument("--concurrency", type=int, default=2, help="pipeline runs at once in this process (default: 2)")
    beat.add_argument("--node-name", help="Celery node name (default: beat-<pid>@<host>)")
    beat.set_defaults(handler=_beat)


def add_review_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--review-below", type=_probability, metavar="X",
        help="write records with any field or item of confidence below X (0..1) to a review file instead",
    )  # fmt: skip
    parser.add_argument(
        "--review", type=output_file, metavar="FILE",
        help="the review file (default: the output's name with .review before its suffix)",
    )  # fmt: skip


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _add_feed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true", help="feed in the foreground with a progress bar")
    parser.add_argument("--quiet", action="store_true", help="no progress bar (with --wait)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each line's result")
    parser.add_argument("--no-spawn", action="store_true", help="never start a local worker")


def _submit(args: argparse.Namespace, settings: Settings) -> int:
    from producer.jobs import open_job

    client = _client(settings)
    job = open_job(client, args.input, args.task, args.format)
    print(job.id, flush=True)
    return _feed(job, args, client)


def _resume(args: argparse.Namespace, settings: Settings) -> int:
    client = _client(settings)
    return _feed(client.job(args.job), args, client)


def _retry(args: argparse.Namespace, settings: Settings) -> int:
    client = _client(settings)
    job = client.job(args.job)
    count = job.store.reset_failed(job.id)
    print(f"slmq: {count} failed lines of job {job.id} will run again.", file=sys.stderr)
    return _feed(job, args, client) if count else 0


def _feed(job: "Job", args: argparse.Namespace, client: Any) -> int:
    """Feed ``job`` here with --wait, else in a detached ``slmq job resume --wait`` that outlives this command."""
    status = job.status()
    if status.state == JobState.FINISHED:
        print(status.summary(), file=sys.stderr)
        return 0
    if not args.wait:
        _detach(job.id, args, client.settings)
        return 0
    from slmq.cli.spawn import worker_for

    with worker_for(client, status.task, args.no_spawn):
        job.feed(timeout=args.timeout)
        status = job.wait() if args.quiet else _watch_job(job)
    print(status.summary(), file=sys.stderr)
    return 0


def _detach(job_id: str, args: argparse.Namespace, settings: Settings) -> None:
    log = settings.home / "logs" / f"job-{job_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "slmq", "job", "resume", job_id, "--wait", "--quiet"]
    command += ["--timeout", str(args.timeout), *(["--no-spawn"] if args.no_spawn else [])]
    with log.open("ab") as out:
        subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "SLMQ_HOME": str(settings.home.resolve())},
        )  # fmt: skip
    print(f"slmq: feeding job {job_id} in the background (log: {log}); `slmq job watch {job_id}`.", file=sys.stderr)


def _status(args: argparse.Namespace, settings: Settings) -> int:
    status = _client(settings).job(args.job).status()
    print(json.dumps(_status_fields(status), indent=2))
    return 0


def _watch(args: argparse.Namespace, settings: Settings) -> int:
    status = _watch_job(_client(settings).job(args.job))
    print(status.summary(), file=sys.stderr)
    return 0 if status.state == JobState.FINISHED else 1


def _watch_job(job: "Job") -> JobStatus:
    from tqdm import tqdm

    status = job.status()
    initial = status.done + status.failed  # so the rate and ETA count only what is done while watching
    with tqdm(total=status.total, initial=initial, unit="line", file=sys.stderr, dynamic_ncols=True) as bar:
        while True:
            # A running job with nobody feeding it waits for `slmq job resume` (its feeder died, or none started).
            state = status.state if status.feeder or status.state != JobState.RUNNING else "running, no feeder"
            bar.set_postfix(failed=status.failed, state=state, refresh=False)
            bar.update(status.done + status.failed - bar.n)
            if status.state in (JobState.FINISHED, JobState.CANCELLED):
                return status
            if job.feeder is not None and job.feeder.error is not None:
                raise job.feeder.error
            time.sleep(WATCH_POLL_S)
            status = job.status()


def _results(args: argparse.Namespace, settings: Settings) -> int:
    job = _client(settings).job(args.job)
    records = job.results(partial=args.partial)
    with OutputLines(args.output, args.review_below, args.review) as out:
        for record in records:
            out.write(record)
    print(f"slmq: {out.written + out.reviewed} records of job {job.id}{out.summary()}.", file=sys.stderr)
    return 0


def _cancel(args: argparse.Namespace, settings: Settings) -> int:
    job = _client(settings).job(args.job)
    cancelled = job.cancel()
    print(f"slmq: job {job.id} {'cancelled' if cancelled else 'was not running'}.", file=sys.stderr)
    return 0


def _beat(args: argparse.Namespace, settings: Settings) -> int:
    from producer.beat import run_beat

    run_beat(settings, args.concurrency, args.node_name)
    return 0


def _status_fields(status: JobStatus) -> dict[str, Any]:
    fields = {key: getattr(status, key) for key in status.__dataclass_fields__}
    return fields | {"pending": status.pending, "seconds": round(status.seconds, 3), "lines_per_s": status.lines_per_s}


def _client(settings: Settings) -> Any:
    from producer import FleetClient

    return FleetClient(settings)
