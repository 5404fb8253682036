"""A span tagger over the specialist's backbone: one forward pass per note, no decoding (issue 13, item 3).

The note is written twice in one sequence ("echo"): the tags are read off the second copy, whose every token
has seen the whole note through the first, so a causal backbone tags a token knowing what comes after it
(the "Deliver to:" below a letterhead). Per token and per kind (``tagging.KINDS``) a head says outside, begins
or inside a span; kinds may overlap (the instructions may hold the contact's number). The backbone is the
shipped specialist as the worker serves it (nf4 weights made dense, its adapter merged), with a new LoRA
adapter trained together with the head.

    python -m slmq.training.tagger train -o runs/tagger --steps 600
    python -m slmq.training.tagger eval runs/tagger data/delivery_note/real-v1.jsonl [-o answers.jsonl]

An experiment: it runs in one process, not through the queue.
"""

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from safetensors.torch import load_file, save_file
from transformers import PreTrainedTokenizerBase

from slmq.batchfile import utf8_file
from slmq.errors import SlmqError
from slmq.fleet import load_fleet
from slmq.settings import Settings
from slmq.training import notegen
from slmq.training.evaluation import format_report, load_labelled
from slmq.training.scoring import Report, auroc, score_record
from slmq.training.tagging import KINDS, SCALARS, Scored, Span, gold_spans, record_from_spans, snap
from slmq.training.trainer import batches, learning_rate
from workers.model.runner import ModelRunner
from workers.model.sources import materialize

OUTSIDE, BEGIN, INSIDE = 0, 1, 2
IGNORE = -100
HEAD = "head.safetensors"
LORA = "lora.safetensors"
CONFIG = "tagger.json"
IN_SPAN = 0.3  # a token is in a span when P(not outside) is this or more (the best of 0.2-0.7 on generated notes)
PREFIX, SEPARATOR = "Delivery note:\n", "\n\nThe same note again:\n"


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


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    first: int  # where the second copy of the note begins
    offsets: list[tuple[int, int]]  # each second-copy token's characters in the note
    labels: list[list[int]] | None  # per second-copy token, per kind: OUTSIDE, BEGIN or INSIDE


def encode(tokenizer: PreTrainedTokenizerBase, text: str, gold: dict[str, Any] | None = None) -> Encoded:
    """The note twice, and (with ``gold``) the tags of the second copy's tokens."""
    note = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(note["input_ids"]), [tuple(o) for o in note["offset_mapping"]]
    head = tokenizer.encode(PREFIX, add_special_tokens=False)
    middle = tokenizer.encode(SEPARATOR, add_special_tokens=False)
    input_ids = head + ids + middle + ids
    labels = None
    if gold is not None:
        labels = [[OUTSIDE] * len(KINDS) for _ in ids]
        for kind, spans in gold_spans(text, gold).items():
            column = KINDS.index(kind)
            for span in spans:
                # every token it touches, the spaces between its words too (digits and spaces are tokens each)
                inside = [i for i, (s, e) in enumerate(offsets) if s < span.end and span.start < e]
                for n, i in enumerate(inside):
                    labels[i][column] = BEGIN if n == 0 else INSIDE
    return Encoded(input_ids, len(head) + len(ids) + len(middle), offsets, labels)


class SpanTagger(torch.nn.Module):
    """The backbone's last hidden states, then a linear head of 3 classes per kind."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model  # a PeftModel over a causal LM; only its inner transformer runs (no lm_head)
        hidden = model.get_base_model().config.hidden_size
        self.head = torch.nn.Linear(hidden, len(KINDS) * 3)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        inner = self.model.get_base_model().model
        hidden = inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits: torch.Tensor = self.head(hidden.float())
        return logits.view(*hidden.shape[:2], len(KINDS), 3)


def backbone(rank: int) -> tuple[Any, PreTrainedTokenizerBase]:
    """The specialist as fleet.toml serves it (dense, adapter merged), with a new LoRA adapter of ``rank``."""
    settings = Settings()
    fleet = load_fleet(settings.fleet)
    spec = fleet.model_for("delivery_note")
    adapter = fleet.resolve(spec.adapter) if spec.adapter else None
    runner = ModelRunner.load(spec, materialize(spec, fleet, settings.models_dir), "cpu", adapter)
    lora = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules="all-linear")
    return get_peft_model(runner.model, lora), runner.tokenizer


def collate(batch: Sequence[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width, len(KINDS)), IGNORE)
    for row, example in enumerate(batch):
        ids[row, : len(example.input_ids)] = torch.tensor(example.input_ids)
        mask[row, : len(example.input_ids)] = 1
        if example.labels:
            labels[row, example.first : example.first + len(example.labels)] = torch.tensor(example.labels)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def train(output: Path, config: TaggerConfig) -> None:
    torch.manual_seed(config.seed)
    model, tokenizer = backbone(config.rank)
    tagger = SpanTagger(model)
    examples = [
        encode(tokenizer, r["text"], r["gold"]) for r in notegen.generate(config.count, config.data_seed, "train")
    ]
    examples = [e for e in examples if len(e.input_ids) <= config.max_tokens]
    lora_params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([
        {"params": lora_params, "lr": config.learning_rate},
        {"params": tagger.head.parameters(), "lr": config.head_learning_rate},
    ])  # fmt: skip
    pad_id = tokenizer.pad_token_id or 0
    weights = torch.tensor([1.0, config.begin_weight, config.inside_weight])
    tagger.train()
    started, losses = time.perf_counter(), []
    stream = batches(examples, config)
    print(f"tagger: {len(examples)} notes, {config.steps} steps of {config.batch_size}", file=sys.stderr, flush=True)
    for step in range(config.steps):
        scale = learning_rate(step, config) / config.learning_rate
        for group, peak in zip(optimizer.param_groups, (config.learning_rate, config.head_learning_rate), strict=True):
            group["lr"] = peak * scale
        batch = collate(next(stream), pad_id)
        logits = tagger(batch["input_ids"], batch["attention_mask"])
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, 3), batch["labels"].reshape(-1), weight=weights, ignore_index=IGNORE
        )
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(lora_params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(loss.item(), 5))
        elapsed = time.perf_counter() - started
        recent = sum(losses[-10:]) / len(losses[-10:])
        per_step = elapsed / (step + 1)
        print(f"step {step + 1}/{config.steps}  loss {recent:.5f}  {per_step:.1f} s/step", file=sys.stderr, flush=True)
        if (step + 1) % config.save_every == 0 or step + 1 == config.steps:
            _save(tagger, output, config, step + 1, losses, elapsed)


def _save(
    tagger: SpanTagger, output: Path, config: TaggerConfig, steps: int, losses: list[float], seconds: float
) -> None:
    output.mkdir(parents=True, exist_ok=True)
    lora = {k: v.detach().contiguous() for k, v in get_peft_model_state_dict(tagger.model).items()}
    save_file(lora, str(output / LORA))
    save_file({k: v.detach().contiguous() for k, v in tagger.head.state_dict().items()}, str(output / HEAD))
    recipe = {"config": asdict(config), "steps_done": steps, "seconds": round(seconds, 1),
              "loss_first_10": losses[:10], "loss_last_10": losses[-10:]}  # fmt: skip
    (output / CONFIG).write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")


def load(directory: Path) -> tuple[SpanTagger, PreTrainedTokenizerBase]:
    recipe = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
    model, tokenizer = backbone(recipe["config"]["rank"])
    set_peft_model_state_dict(model, load_file(str(directory / LORA)))
    tagger = SpanTagger(model)
    tagger.head.load_state_dict(load_file(str(directory / HEAD)))
    tagger.eval()
    return tagger, tokenizer


def spans_of(
    text: str, encoded: Encoded, probs: torch.Tensor, in_span: float = IN_SPAN
) -> tuple[dict[str, list[Scored]], dict[str, float]]:
    """The spans per kind: runs of tokens whose P(in a span) is at least ``in_span``, a new one wherever a token
    is likelier to begin a span than to go on with one; each scored by its tokens' mean P(in a span). And per
    kind the probability that it is absent (one minus the highest begin probability)."""
    found: dict[str, list[Scored]] = {}
    absent: dict[str, float] = {}
    inside = (1 - probs[..., OUTSIDE]) >= in_span
    # A run of tokens in a span splits in two only where a token is more likely than not to begin one.
    begins = (probs[..., BEGIN] > probs[..., INSIDE]) & (probs[..., BEGIN] >= 0.5)
    for column, kind in enumerate(KINDS):
        spans: list[list[int]] = []
        for index in range(len(encoded.offsets)):
            if not inside[index, column]:
                continue
            if spans and spans[-1][-1] == index - 1 and not begins[index, column]:
                spans[-1].append(index)
            else:
                spans.append([index])
        found[kind] = [
            Scored(snap(text, Span(encoded.offsets[s[0]][0], encoded.offsets[s[-1]][1])),
                   float(1 - probs[s, column, OUTSIDE].mean()))
            for s in spans
        ]  # fmt: skip
        absent[kind] = float(1 - probs[:, column, BEGIN].max()) if len(encoded.offsets) else 1.0
    return found, absent


@torch.inference_mode()
def predict(
    tagger: SpanTagger,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 8,
    in_span: float = IN_SPAN,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    pad_id = tokenizer.pad_token_id or 0
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        encoded = [encode(tokenizer, text) for text in chunk]
        batch = collate(encoded, pad_id)
        probs = tagger(batch["input_ids"], batch["attention_mask"]).softmax(-1)
        for row, (text, enc) in enumerate(zip(chunk, encoded, strict=True)):
            note = probs[row, enc.first : enc.first + len(enc.offsets)]
            found, absent = spans_of(text, enc, note, in_span)
            yield record_from_spans(text, found, absent)


def field_auroc(report: Report, confidences: Sequence[dict[str, Any]]) -> float | None:
    """``auroc`` of every note's scalar fields: their confidence against "this field is right"."""
    scored = [
        (float(confidence[kind]), not any(mistake.field == kind for mistake in record.mistakes))
        for record, confidence in zip(report.records, confidences, strict=True)
        for kind in SCALARS
    ]
    return auroc(scored)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slmq.training.tagger")
    commands = parser.add_subparsers(dest="command", required=True)
    training = commands.add_parser("train")
    training.add_argument("-o", "--output", type=Path, required=True)
    for name, value in asdict(TaggerConfig()).items():
        training.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    evaluation = commands.add_parser("eval")
    evaluation.add_argument("tagger", type=Path)
    evaluation.add_argument("labelled", type=utf8_file)
    evaluation.add_argument("-o", "--output", type=Path)
    evaluation.add_argument("--limit", type=int)
    evaluation.add_argument("--in-span", type=float, default=IN_SPAN, help=f"(default: {IN_SPAN})")
    args = parser.parse_args(argv)
    if args.command == "train":
        names = asdict(TaggerConfig())
        train(args.output, TaggerConfig(**{name: getattr(args, name) for name in names}))
        return 0
    if not (args.tagger / CONFIG).is_file():
        print(f"slmq: {args.tagger} holds no tagger ({CONFIG}); give the -o directory of a train run.", file=sys.stderr)
        return 2
    records = load_labelled(args.labelled)[: args.limit]
    tagger, tokenizer = load(args.tagger)
    started = time.perf_counter()
    answers = list(predict(tagger, tokenizer, [r["text"] for r in records], in_span=args.in_span))
    seconds = time.perf_counter() - started
    report = Report(
        [score_record(r["gold"], answer, str(r["id"])) for r, (answer, _) in zip(records, answers, strict=True)]
    )
    print(
        format_report(report, f"{args.labelled} ({args.tagger}, {seconds:.1f} s, {len(records) / seconds:.2f} notes/s)")
    )
    print(f"field confidence AUROC for 'this field is right': {field_auroc(report, [c for _, c in answers])}")
    if args.output:
        with args.output.open("w", encoding="utf-8") as out:
            for record, (answer, confidence) in zip(records, answers, strict=True):
                out.write(
                    json.dumps(
                        {"id": record["id"], "result": answer, "confidence": confidence, "gold": record["gold"]},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
    return 0


def _cli() -> int:
    try:
        return main()
    except SlmqError as exc:  # a missing or unreadable file: one line, not a traceback
        print(f"slmq: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_cli())
