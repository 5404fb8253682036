"""Training and evaluating the span tagger (issue 13, item 3; the model is ``workers.model.tagger``).

The backbone is the delivery_note model of the fleet file (``SLMQ_FLEET``, fleet.toml by default) as a worker loads
it: Gemma-3-270M as shipped (its attention made bidirectional: ``--bidirectional``), or the SmolLM2 generation
specialist of examples/fleet-generation.toml (nf4 weights made dense, its adapter merged; the note written twice).
A new LoRA adapter is trained together with the head on generated notes whose gold records
``slmq.training.tagging.gold_spans`` aligns to tagged tokens. How the shipped tagger was made (docs/evaluation.md):

    python -m slmq.training.tagger train -o runs/tagger --steps 1500 --count 14000 --data-seed 21 --rank 32 \
        --bidirectional --bf16 --save-every 100 --warmup-steps 30
    python -m slmq.training.tagger tune runs/tagger --count 300 --seed 5 --save
    python -m slmq.training.tagger eval runs/tagger data/delivery_note/real-v1.jsonl [-o answers.jsonl]
    python -m slmq.training.tagger average runs/a runs/b -o runs/mean    # weights averaged; then tune it

``tune`` scores the span thresholds (``IN_SPAN``, ``EXTEND``, ``JOINED``) on generated held-out notes, never on
the evaluation files. ``eval`` and ``tune`` run in this process (``slmq.training.tagger_eval``); through the queue,
point fleet.toml's ``tagger`` at the directory and use ``slmq eval``.
"""

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from peft import get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from safetensors.torch import load_file, save_file
from transformers import PreTrainedTokenizerBase

from slmq.batchfile import utf8_file
from slmq.errors import SlmqError
from slmq.training import notegen
from slmq.training.relayout import relayout
from slmq.training.tagger_eval import evaluate_file, print_tuning, specialist
from slmq.training.tagging import gold_spans
from slmq.training.trainer import batches, learning_rate
from workers.model.device import cpu_has_bf16
from workers.model.tagger import (
    BEGIN,
    CONFIG,
    HEAD,
    INSIDE,
    LORA,
    OUTSIDE,
    Encoded,
    SpanTagger,
    backbone_of,
    encode,
    lora_config,
    pad,
)  # fmt: skip
from workers.model.tagging import KINDS

IGNORE = -100
NO_BF16 = (
    "--bf16 needs a CPU with bf16 units (AVX-512 bf16 or AMX); this one would emulate them, 270 s a step against 7 s "
    "in fp32 on a 2-core AVX2 EPYC: train with --no-bf16"
)
OPTIMIZER = "optimizer.pt"  # written beside a checkpoint so that a resumed run goes on exactly; not shipped


@dataclass(frozen=True)
class TaggerConfig:
    steps: int = 600
    batch_size: int = 8
    learning_rate: float = 3e-4
    head_learning_rate: float = 1e-3
    rank: int = 16
    count: int = 8000
    data_seed: int = 11
    seed: int = 0
    max_tokens: int = 1024
    save_every: int = 50
    warmup_steps: int = 20
    # Most tokens are outside every span (~96%): unweighted, the head learnt to miss a span's first token.
    begin_weight: float = 5.0
    inside_weight: float = 3.0
    # The backbone's attention made bidirectional and the note read once, not written twice (a Gemma 3 backbone).
    bidirectional: bool = False
    # Forward passes under bf16 autocast (the adapter and head stay fp32): on a 2-core Zen 4 with AVX-512 bf16 a
    # step of 8 notes over Gemma-3-270M took 4.8 s against 11 s in fp32.
    bf16: bool = False
    # The share of training notes whose line structure is changed outside their values (slmq.training.relayout).
    relayout: float = 0.0


@dataclass(frozen=True)
class Labelled:
    encoded: Encoded
    labels: list[list[int]]  # per second-copy token, per kind: OUTSIDE, BEGIN or INSIDE

    @property
    def input_ids(self) -> list[int]:  # what the trainer's batching sorts by
        return self.encoded.input_ids


def labelled(tokenizer: PreTrainedTokenizerBase, text: str, gold: dict[str, Any], echo: bool = True) -> Labelled:
    """The note encoded as the worker tags it, with the tags of its tagged copy's tokens for ``gold``."""
    encoded = encode(tokenizer, text, echo)
    labels = [[OUTSIDE] * len(KINDS) for _ in encoded.offsets]
    for kind, spans in gold_spans(text, gold).items():
        column = KINDS.index(kind)
        for span in spans:
            # every token it touches, the spaces between its words too (digits and spaces are tokens each)
            inside = [i for i, (s, e) in enumerate(encoded.offsets) if s < span.end and span.start < e]
            for n, i in enumerate(inside):
                labels[i][column] = BEGIN if n == 0 else INSIDE
    return Labelled(encoded, labels)


def backbone(rank: int) -> tuple[Any, PreTrainedTokenizerBase]:
    """The delivery_note model of the fleet (dense, any adapter merged; fp32 weights whatever dtype it is served in,
    bf16 being ``--bf16``'s autocast), with a new LoRA adapter of ``rank``."""
    runner = specialist(served_dtype=False)
    return get_peft_model(runner.model, lora_config(rank)), runner.tokenizer


def collate(batch: Sequence[Labelled], pad_id: int) -> dict[str, torch.Tensor]:
    ids, mask = pad([example.input_ids for example in batch], pad_id)
    labels = torch.full((*ids.shape, len(KINDS)), IGNORE)
    for row, example in enumerate(batch):
        first = example.encoded.first
        labels[row, first : first + len(example.labels)] = torch.tensor(example.labels)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def train(output: Path, config: TaggerConfig, resume: Path | None = None, init: Path | None = None) -> None:
    """Train for ``config.steps``; with ``resume``, go on from that checkpoint's step (same config, same batches).
    A checkpoint without its optimizer state (a shipped one) restarts AdamW's moments, under a new warm-up. With
    ``init``, start from that tagger's adapter and head instead of new ones (its recipe is kept in this one's)."""
    torch.manual_seed(config.seed)
    model, tokenizer = backbone(config.rank)
    tagger = SpanTagger(model.get_base_model(), config.bidirectional)
    done, before, rewarm, origin = 0, 0.0, False, None
    if resume is not None:
        done, before, origin = _restore(model, tagger, resume, config)
    elif init is not None:
        origin = _load_weights(model, tagger, init)
        if origin["config"]["rank"] != config.rank:
            raise SlmqError(f"{init} has rank {origin['config']['rank']}; train over it with --rank the same")
    shuffle = random.Random(config.data_seed)  # which notes are relaid out, and how: the same on a resume
    examples = []
    for note in notegen.generate(config.count, config.data_seed, "train"):
        text = relayout(note["text"], note["gold"], shuffle) if shuffle.random() < config.relayout else note["text"]
        examples.append(labelled(tokenizer, text, note["gold"], tagger.echo))
    examples = [e for e in examples if len(e.input_ids) <= config.max_tokens]
    lora_params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([
        {"params": lora_params, "lr": config.learning_rate},
        {"params": tagger.head.parameters(), "lr": config.head_learning_rate},
    ])  # fmt: skip
    if resume is not None:
        state = resume / OPTIMIZER
        rewarm = not state.is_file()
        if not rewarm:
            optimizer.load_state_dict(torch.load(state, weights_only=True))
    pad_id = tokenizer.pad_token_id or 0
    weights = torch.tensor([1.0, config.begin_weight, config.inside_weight])
    tagger.train()
    started, losses = time.perf_counter(), []
    stream = batches(examples, config)
    for _ in range(done):  # the batches the checkpoint has already seen
        next(stream)
    sizes = f"{len(examples)} notes, steps {done + 1}-{config.steps} of {config.batch_size}"
    print(f"tagger: {sizes}", file=sys.stderr, flush=True)
    for step in range(done, config.steps):
        scale = learning_rate(step, config) / config.learning_rate
        if rewarm:
            scale *= min(1.0, (step - done + 1) / config.warmup_steps)
        for group, peak in zip(optimizer.param_groups, (config.learning_rate, config.head_learning_rate), strict=True):
            group["lr"] = peak * scale
        batch = collate(next(stream), pad_id)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            logits = tagger(batch["input_ids"], batch["attention_mask"])
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, 3).float(), batch["labels"].reshape(-1), weight=weights, ignore_index=IGNORE
        )
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(lora_params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(loss.item(), 5))
        elapsed = time.perf_counter() - started
        recent = sum(losses[-10:]) / len(losses[-10:])
        per_step = elapsed / (step + 1 - done)
        print(f"step {step + 1}/{config.steps}  loss {recent:.5f}  {per_step:.1f} s/step", file=sys.stderr, flush=True)
        if (step + 1) % config.save_every == 0 or step + 1 == config.steps:
            save_checkpoint(model, tagger, output, config, step + 1, losses, before + elapsed, origin)
            torch.save(optimizer.state_dict(), output / OPTIMIZER)


def _restore(
    model: Any, tagger: SpanTagger, directory: Path, config: TaggerConfig
) -> tuple[int, float, dict[str, Any] | None]:
    """Load a checkpoint's adapter and head; its steps done, seconds spent and the recipe it was initialised from.
    Its config must be ``config``."""
    recipe = _load_weights(model, tagger, directory)
    if {**asdict(TaggerConfig()), **recipe["config"]} != asdict(config):  # a field newer than the recipe: its default
        raise SlmqError(f"{directory} was trained with another config; resume it with {recipe['config']}")
    return int(recipe["steps_done"]), float(recipe["seconds"]), recipe.get("init")


def _load_weights(model: Any, tagger: SpanTagger, directory: Path) -> dict[str, Any]:
    """``directory``'s adapter and head into ``model`` and ``tagger``; its recipe."""
    recipe: dict[str, Any] = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
    set_peft_model_state_dict(model, load_file(str(directory / LORA)))
    tagger.head.load_state_dict(load_file(str(directory / HEAD)))
    return recipe


def save_checkpoint(
    model: Any,
    tagger: SpanTagger,
    output: Path,
    config: TaggerConfig,
    steps: int,
    losses: list[float],
    seconds: float,
    init: dict[str, Any] | None = None,
) -> None:
    """The adapter, head and recipe in ``output``; ``init`` is the recipe of the tagger training started from."""
    output.mkdir(parents=True, exist_ok=True)
    lora = {k: v.detach().contiguous() for k, v in get_peft_model_state_dict(model).items()}
    save_file(lora, str(output / LORA))
    save_file({k: v.detach().contiguous() for k, v in tagger.head.state_dict().items()}, str(output / HEAD))
    recipe = {"config": asdict(config), "backbone": backbone_of(tagger.model), "steps_done": steps,
              "seconds": round(seconds, 1), "loss_first_10": losses[:10], "loss_last_10": losses[-10:]}  # fmt: skip
    if init is not None:
        recipe["init"] = init
    (output / CONFIG).write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")


def average(taggers: Sequence[Path], output: Path) -> None:
    """A tagger whose adapter and head are the mean of ``taggers``' (a weight average, or "model soup", of taggers
    of one lineage: each trained on from the same weights). Its recipe lists theirs; its thresholds are left to
    ``tune``."""
    recipes = [json.loads((directory / CONFIG).read_text(encoding="utf-8")) for directory in taggers]
    first = (recipes[0]["backbone"], recipes[0]["config"]["rank"])
    for directory, recipe in zip(taggers[1:], recipes[1:], strict=True):
        if (recipe["backbone"], recipe["config"]["rank"]) != first:
            raise SlmqError(
                f"{directory} and {taggers[0]} differ in backbone or adapter rank: only taggers of one lineage "
                "(trained on from the same weights) can be averaged"
            )
    output.mkdir(parents=True, exist_ok=True)
    for name in (LORA, HEAD):
        parts = [load_file(str(directory / name)) for directory in taggers]
        if any(part.keys() != parts[0].keys() for part in parts):
            raise SlmqError(f"the taggers' {name} hold different tensors: they are not of one lineage")
        mean = {
            key: torch.stack([part[key].float() for part in parts]).mean(0).to(parts[0][key].dtype) for key in parts[0]
        }
        save_file(mean, str(output / name))
    recipe = {"config": recipes[0]["config"], "backbone": recipes[0]["backbone"], "averaged": recipes}
    (output / CONFIG).write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slmq.training.tagger")
    commands = parser.add_subparsers(dest="command", required=True)
    training = commands.add_parser("train")
    training.add_argument("-o", "--output", type=Path, required=True)
    training.add_argument("--resume", type=Path, help="go on from this checkpoint directory (same config)")
    training.add_argument("--init", type=Path, help="start from this tagger's adapter and head (a new schedule)")
    for name, value in asdict(TaggerConfig()).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):  # --bf16 / --no-bf16: bool("False") would be True
            training.add_argument(flag, action=argparse.BooleanOptionalAction, default=value)
        else:
            training.add_argument(flag, type=type(value), default=value)
    evaluation = commands.add_parser("eval")
    evaluation.add_argument("tagger", type=Path)
    evaluation.add_argument("labelled", type=utf8_file)
    evaluation.add_argument("-o", "--output", type=Path)
    evaluation.add_argument("--limit", type=int)
    evaluation.add_argument("--in-span", type=float, help="instead of the tagger's own (its recipe's, or IN_SPAN)")
    tuning = commands.add_parser("tune", help="score the span thresholds on generated held-out notes")
    tuning.add_argument("tagger", type=Path)
    tuning.add_argument("--count", type=int, default=300)
    tuning.add_argument("--seed", type=int, default=5, help="(default: 5; the heldout-v* files are seed 1)")
    tuning.add_argument("--save", action="store_true", help="write the best thresholds into the tagger's recipe")
    averaging = commands.add_parser("average", help="a tagger whose weights are the mean of several taggers'")
    averaging.add_argument("taggers", type=Path, nargs="+")
    averaging.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    # The tagger directories the command reads (train's --resume and --init, eval's and tune's, average's)
    named = (
        args.taggers if args.command == "average" else [getattr(args, k, None) for k in ("resume", "init", "tagger")]
    )
    for given in named:
        if given and not (given / CONFIG).is_file():
            return _no_tagger(given)
    if args.command == "average":
        average(args.taggers, args.output)
        return 0
    if args.command == "train":
        names = asdict(TaggerConfig())
        if args.resume and args.init:
            parser.error("--resume goes on with a run; --init starts a new one: give one of them")
        config = TaggerConfig(**{name: getattr(args, name) for name in names})
        if config.bf16 and not cpu_has_bf16():
            raise SlmqError(NO_BF16)
        train(args.output, config, args.resume, args.init)
        return 0
    if args.command == "tune":
        return print_tuning(args.tagger, args.count, args.seed, args.save)
    return evaluate_file(args.tagger, args.labelled, args.limit, args.in_span, args.output)


def _no_tagger(directory: Path) -> int:
    print(f"slmq: {directory} holds no tagger ({CONFIG}); give the -o directory of a train run.", file=sys.stderr)
    return 2


def _cli() -> int:
    try:
        return main()
    except SlmqError as exc:  # a missing or unreadable file: one line, not a traceback
        print(f"slmq: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_cli())
