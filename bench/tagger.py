"""The span tagger against generation, through the queue: the same notes, the same worker, in one run.

Two fleets made from the shipped fleet.toml: the delivery-note specialist as shipped (generation: grammar,
copy spans, native engine), and the same model serving the span tagger (``tagger = <dir>``: one forward pass
per batch). For each, a real worker (``slmq worker``) is started and warmed; then each labelled file goes
through the queue (``slmq.training.evaluation.evaluate``, as ``slmq eval`` does), timed from the first send to
the last answer. Printed per file: micro-F1, exact-record and schema-valid rates, per-field F1, notes/s and
their ratio, the field confidence's AUROC for "this field is right", and the review table of
``bench/confidence.py`` (share sent to review and F1 of what is kept, for ``--review-below`` thresholds).

    python bench/tagger.py [--notes 48] [--tagger adapters/delivery_note_tagger] [--data FILE ...]
    python bench/tagger.py --notes 0 --latency 8    # only each fleet's idle single-note latency
    python bench/tagger.py --candidate fleet-b.toml # fleet.toml as shipped against another fleet file

With ``--candidate FILE`` the two fleets are fleet.toml as shipped and FILE, each with the worker of its own
delivery_note model (another tagger, backbone or dtype); models are fetched into the usual model cache.

``--latency N`` also sends the first file's first N notes one at a time to each idle worker (after its warm-up)
and records each note's seconds from send to answer, their median and 95th percentile.

Writes bench/tagger.json and each run's answers under --workdir.
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.confidence import DATA, SCALARS, field_right, review_table  # noqa: E402
from bench.engine import cpu_flags  # noqa: E402
from bench.soak import machine  # noqa: E402
from producer import FleetClient  # noqa: E402
from slmq.errors import SlmqError  # noqa: E402
from slmq.fleet import load_fleet  # noqa: E402
from slmq.schemas import DeliveryNoteConfidence  # noqa: E402
from slmq.settings import Settings  # noqa: E402
from slmq.training.evaluation import evaluate, load_labelled, write_answers  # noqa: E402
from slmq.training.scoring import auroc  # noqa: E402

MODEL = "smollm2-notes"
Run = tuple[str, Path, str]  # a name, its fleet file, the model that answers delivery_note in it


def write_fleet(workdir: Path, name: str, tagger: Path | None) -> Path:
    text = (REPO / "fleet.toml").read_text(encoding="utf-8")
    text = text.replace('adapter = "adapters/', f'adapter = "{REPO}/adapters/')
    text = "\n".join(line for line in text.splitlines() if not line.startswith("tagger = "))
    if tagger is not None:
        text = text.replace(f"[models.{MODEL}]\n", f'[models.{MODEL}]\ntagger = "{tagger.resolve()}"\n')
    path = workdir / f"fleet-{name}.toml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def runs_of(workdir: Path, tagger: Path, candidate: Path | None) -> list[Run]:
    """Generation and ``tagger`` over the shipped model; or, with a ``candidate`` fleet, fleet.toml and it."""
    if candidate is None:
        return [("generation", write_fleet(workdir, "generation", None), MODEL),
                ("tagger", write_fleet(workdir, "tagger", tagger), MODEL)]  # fmt: skip
    shipped = REPO / "fleet.toml"
    return [(name, path, load_fleet(path).model_for("delivery_note").name)
            for name, path in (("shipped", shipped), ("candidate", candidate.resolve()))]  # fmt: skip


@contextlib.contextmanager
def worker(settings: Settings, env: dict[str, str], model: str, node: str, log: Path) -> Iterator[FleetClient]:
    """A real worker of ``model`` for the block, answering pings before the block begins."""
    command = [sys.executable, "-m", "slmq", "worker", "--model", model, "--node-name", node]
    with log.open("wb") as output:
        child = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            client = FleetClient(settings)
            while not client.app.control.ping(destination=[node], timeout=0.5):
                if child.poll() is not None:
                    raise SystemExit(f"the worker exited with {child.returncode}; see {log}")
                time.sleep(0.5)
            yield client
        finally:
            child.terminate()
            child.wait(timeout=120)


FIELD_THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)


def fields_above(scored: list[tuple[float, bool]]) -> list[dict[str, Any]]:
    """For each threshold: the share of scalar fields whose confidence reaches it, and how many of those are right."""
    table = []
    for threshold in FIELD_THRESHOLDS:
        above = [right for confidence, right in scored if confidence >= threshold]
        right = round(sum(above) / len(above), 3) if above else None
        table.append({"at_least": threshold, "share": round(len(above) / max(1, len(scored)), 3), "right": right})
    return table


def summary(records: list[dict[str, Any]], evaluation: Any, seconds: float) -> dict[str, Any]:
    report = evaluation.report
    rows, scored = [], []
    for record, prediction, judged in zip(records, evaluation.predictions, report.records, strict=True):
        confidence = DeliveryNoteConfidence.model_validate(prediction.confidence) if prediction.confidence else None
        rows.append((record, prediction.result, confidence))
        if confidence is not None:
            values = confidence.model_dump(mode="json")
            scored += [(values[field], field_right(judged, field)) for field in SCALARS]
    return {
        "notes": len(records),
        "seconds": round(seconds, 1),
        "notes_per_s": round(len(records) / seconds, 3),
        "micro_f1": report.micro.f1,
        "exact_rate": report.exact_rate,
        "schema_valid_rate": report.valid_rate,
        "per_field_f1": {name: counts.f1 for name, counts in report.per_field.items()},
        "field_auroc": auroc(scored),
        "fields_above": fields_above(scored),
        "review": review_table(rows),
    }


def idle_latency(client: FleetClient, texts: list[str]) -> dict[str, float]:
    """Seconds from send to answer of each note sent alone to an idle worker: median, 95th percentile, all."""
    seconds = []
    for text in texts:
        started = time.perf_counter()
        with contextlib.suppress(SlmqError):  # a typed refusal is an answer too
            client.submit("delivery_note", text).get(timeout=900)
        seconds.append(time.perf_counter() - started)
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(seconds), 2), "p95": round(p95, 2), "all": [round(s, 2) for s in seconds]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=48, help="notes of each file (default: 48; 0: none)")
    parser.add_argument("--latency", type=int, default=0, help="notes sent one at a time to the idle worker")
    parser.add_argument("--tagger", type=Path, default=REPO / "adapters/delivery_note_tagger")
    parser.add_argument("--data", type=Path, nargs="+", default=[REPO / path for path in DATA])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--workdir", type=Path, default=None, help="answers and logs (default: a temporary folder)")
    parser.add_argument("--output", type=Path, default=REPO / "bench/tagger.json")
    parser.add_argument("--candidate", type=Path, help="a fleet file to run against fleet.toml as shipped")
    args = parser.parse_args()
    for path in (args.tagger / "tagger.json", *args.data, *([args.candidate] if args.candidate else [])):
        if not path.is_file():
            raise SystemExit(f"bench/tagger.py: {path} does not exist")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="slmq-tagger-"))
    workdir.mkdir(parents=True, exist_ok=True)
    runs = runs_of(workdir, args.tagger, args.candidate)
    results: dict[str, Any] = {"machine": machine(), "cpu_flags": cpu_flags(), "runs": {},
                               "fleets": {name: str(fleet) for name, fleet, _ in runs}}  # fmt: skip
    if args.candidate is None:
        results["tagger"] = str(args.tagger)
    models = str(Settings().models_dir)  # fetched and converted once, as a worker of the user's own would
    for name, fleet, model in runs:
        settings = Settings(broker_url=args.redis_url, fleet=fleet, home=workdir / "home", model_cache=models)
        env = {**os.environ, "SLMQ_BROKER_URL": args.redis_url, "SLMQ_FLEET": str(fleet),
               "SLMQ_HOME": str(workdir / "home"), "SLMQ_MODEL_CACHE": models}  # fmt: skip
        with worker(settings, env, model, f"bench-{name}@host", workdir / f"worker-{name}.log") as client:
            evaluate(client, load_labelled(args.data[0])[:2], timeout=900)  # the first batch's lazy set-up
            if args.latency:
                texts = [record["text"] for record in load_labelled(args.data[0])[: args.latency]]
                results.setdefault("idle_latency_s", {})[name] = idle_latency(client, texts)
                print(f"{name} idle latency: {results['idle_latency_s'][name]}", file=sys.stderr)
            for path in args.data if args.notes else []:
                records = load_labelled(path)[: args.notes]
                started = time.perf_counter()
                evaluation = evaluate(client, records, timeout=900)
                seconds = time.perf_counter() - started
                write_answers(workdir / f"{name}-{path.stem}.jsonl", evaluation, records)
                results["runs"].setdefault(path.name, {})[name] = summary(records, evaluation, seconds)
                print(f"{name} {path.name}: {json.dumps(results['runs'][path.name][name])}", file=sys.stderr)
    (a, *_), (b, *_) = runs
    ratio = f"{b}_over_{a}_notes_per_s"
    for per_file in results["runs"].values():
        per_file[ratio] = round(per_file[b]["notes_per_s"] / per_file[a]["notes_per_s"], 2)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"{'file':<20}{a + ' F1':>15}{b + ' F1':>15}{a + ' notes/s':>20}{b + ' notes/s':>20}{'ratio':>7}")
    for file, per_file in results["runs"].items():
        first, second = per_file[a], per_file[b]
        print(
            f"{file:<20}{first['micro_f1']:>15.3f}{second['micro_f1']:>15.3f}{first['notes_per_s']:>20.3f}"
            f"{second['notes_per_s']:>20.3f}{per_file[ratio]:>7.2f}"
        )
    print(f"answers and worker logs in {workdir}; figures in {args.output}")


if __name__ == "__main__":
    main()
