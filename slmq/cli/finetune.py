"""``slmq finetune TASK``: train a LoRA adapter for a task type over its model's base weights."""

import argparse
import hashlib
import json
import logging
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from itertools import islice
from pathlib import Path
from typing import Any

from slmq.batchfile import ADAPTER_FILES, adapter_dir, json_lines, output_dir, utf8_file
from slmq.errors import ConfigError
from slmq.fleet import load_fleet
from slmq.settings import Settings
from slmq.training.recipe import FinetuneConfig


def register(commands: Any) -> None:
    finetune = commands.add_parser("finetune", help="train a LoRA adapter for a task type (CPU or GPU)")
    finetune.add_argument("task", help="task type, e.g. delivery_note")
    finetune.add_argument("-o", "--output", type=output_dir, required=True, help="directory for the adapter")
    finetune.add_argument("--model", help="whose base weights to train on (default: the model serving the task)")
    finetune.add_argument("--data", type=utf8_file, help='JSONL of {"text", "gold"} records (default: generated notes)')
    finetune.add_argument("--count", type=int, default=3000, help="notes to generate when no --data (default: 3000)")
    finetune.add_argument("--data-seed", type=int, default=1, help="seed of the generated notes (default: 1)")
    finetune.add_argument("--device", help="cpu or cuda:N (default: cuda:0 when there is a GPU, else cpu)")
    finetune.add_argument(
        "--quantization", choices=("nf4", "none"),
        help="the base weights to train over (default: as fleet.toml serves the model; nf4 trains over the "
        "nf4-rounded weights, dequantized)",
    )  # fmt: skip
    finetune.add_argument(
        "--init-adapter", type=adapter_dir,
        help="go on training this adapter (written by slmq finetune; its rank and alpha, not --rank) "
        "instead of a new one",
    )  # fmt: skip
    defaults = {field.name: field.default for field in fields(FinetuneConfig)}
    for name in ("steps", "batch_size", "learning_rate", "rank", "max_tokens", "seed", "save_every"):
        flag = "--" + name.replace("_", "-")
        default = defaults[name]
        finetune.add_argument(flag, type=type(default), default=default, help=f"(default: {default})")
    finetune.set_defaults(handler=_finetune)


def _finetune(args: argparse.Namespace, settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    fleet = load_fleet(settings.fleet)
    spec = fleet.model(args.model) if args.model else fleet.model_for(args.task)
    if spec.tagger is not None:
        raise ConfigError(
            f"Model {spec.name!r} answers {args.task} with the span tagger in {spec.tagger}; slmq finetune trains a "
            "generation adapter: set SLMQ_FLEET=examples/fleet-generation.toml (or pass --model), or train a tagger "
            "with python -m slmq.training.tagger train."
        )
    device = args.device or _default_device()

    from workers.model.device import pin_device

    torch_device = pin_device(device)
    from slmq.training.trainer import finetune
    from workers.model.sources import materialize

    records, data_meta = _records(args)
    rank, alpha, parent = _init_adapter(args.init_adapter) if args.init_adapter else (args.rank, 2 * args.rank, None)
    config = FinetuneConfig(
        task_type=args.task, steps=args.steps, batch_size=args.batch_size, learning_rate=args.learning_rate,
        rank=rank, alpha=alpha, max_tokens=args.max_tokens, seed=args.seed, save_every=args.save_every,
        quantization=args.quantization or spec.quantization,
    )  # fmt: skip
    meta = {
        "command": "slmq " + shlex.join(sys.argv[1:]),
        "base_model": {"name": spec.name, "source": str(spec.source), "revision": spec.revision},
        "data": data_meta,
        "device": device,
        "code_commit": _commit(),
        **({"init_adapter": parent} if parent else {}),
    }
    base_dir = materialize(spec, fleet, settings.models_dir)
    report = finetune(base_dir, records, args.output, config, torch_device, meta, args.init_adapter)
    print(
        f"slmq: adapter for {args.task} saved in {args.output} after {report.steps} steps "
        f"({report.examples_seen} examples, {report.seconds / 60:.1f} min); final loss {report.losses[-1]:.4f}.",
        file=sys.stderr,
    )
    return 0


def _init_adapter(directory: Path) -> tuple[int, int, dict[str, Any]]:
    """The rank and alpha of the adapter to go on from, and what the new recipe records of it."""
    directory = adapter_dir(directory)
    weights, config = (directory / name for name in ADAPTER_FILES)
    lora = json.loads(config.read_text(encoding="utf-8"))
    recipe = directory / "recipe.json"
    parent = {
        "path": str(directory),
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "recipe": json.loads(recipe.read_text(encoding="utf-8")) if recipe.is_file() else None,
    }
    return int(lora["r"]), int(lora["lora_alpha"]), parent


def _commit() -> str | None:
    """The slmq commit that trained the adapter (its generator made the data), when run from a checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def _default_device() -> str:
    # Decided before torch is imported, which must come after the device is pinned.
    gpus = Path("/proc/driver/nvidia/gpus")
    return "cuda:0" if gpus.is_dir() and any(gpus.iterdir()) else "cpu"


def _records(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    if args.data is not None:
        digest = hashlib.sha256(args.data.read_bytes()).hexdigest()
        records = list(_read(args.data))
        refuse_evaluation_notes(records, args.data)
        return records, {"file": str(args.data), "sha256": digest}
    from slmq.training.notegen import DATA_VERSION, generate

    records = list(islice(generate(args.count, args.data_seed, "train"), args.count))
    return records, {"generator": "slmq.training.notegen", "data_version": DATA_VERSION, "split": "train",
                     "count": args.count, "seed": args.data_seed}  # fmt: skip


def _read(path: Path) -> Iterator[dict[str, Any]]:
    for number, record in json_lines(path, ConfigError, "one record per line"):
        if not isinstance(record, dict) or "text" not in record or "gold" not in record:
            raise ConfigError(f"{path}:{number}: a training record needs 'text' and 'gold' keys.")
        yield record


def evaluation_files() -> list[Path]:
    """The labelled files this checkout evaluates with: data/delivery_note/*.jsonl and ../shared/data/*.jsonl."""
    repo = Path(__file__).resolve().parents[2]
    return sorted([*(repo / "data").glob("*/*.jsonl"), *(repo.parent / "shared" / "data").glob("*.jsonl")])


def refuse_evaluation_notes(records: list[dict[str, Any]], path: Path) -> None:
    """A ConfigError if any training record is a note of an evaluation file: what is evaluated is never trained on."""
    training = {" ".join(str(record["text"]).split()) for record in records}
    for source in evaluation_files():
        for note in _read(source):
            if " ".join(str(note["text"]).split()) in training:
                raise ConfigError(
                    f"{path} holds note {note.get('id', '?')!r} of the evaluation file {source}; notes that measure "
                    "the model are never trained on: remove them (or train on generated notes, without --data)."
                )
