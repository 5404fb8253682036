"""Fine-tuning a task specialist: a LoRA adapter over the base model, trained on labelled records.

The adapter is trained on exactly the prompt the worker sends (the task type's ``messages()``), with
the loss on the answer only: the gold record as compact JSON, then the chat's end token, and over
the base weights as the worker serves them (nf4-rounded when the model is served nf4). It is
saved as safetensors (bf16, so a rank-16 adapter over SmolLM2-135M stays near 10 MB) with a
``recipe.json`` that records how to make it again.
"""

import json
import logging
import math
import platform
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import torch
from pydantic import BaseModel
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase

from slmq.errors import ConfigError
from slmq.fleet import Quantization
from slmq.schemas import TASK_TYPE_SPECS
from slmq.training.recipe import FinetuneConfig, TrainingReport
from workers.model.runner import END_OF_TURN, chat_ids, end_of_turn_id, quantization_config
from workers.model.tasktypes import TASK_TYPES
from workers.model.tasktypes.base import GenerativeTaskType

log = logging.getLogger("slmq.finetune")
ADAPTER_WEIGHTS = "adapter_model.safetensors"
RECIPE = "recipe.json"
IGNORE = -100  # label of tokens the loss skips: the prompt and the padding


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    labels: list[int]


def answer_text(task_type: str, gold: dict[str, Any]) -> str:
    """The answer the model learns to write: the validated record as compact JSON, keys in schema order."""
    record: BaseModel = TASK_TYPE_SPECS[task_type].result.model_validate(gold)
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


def encode(task: GenerativeTaskType[Any, Any], tokenizer: PreTrainedTokenizerBase, record: dict[str, Any]) -> Example:
    """Prompt tokens (no loss) followed by answer tokens and the end of turn (loss)."""
    request = task.spec.request.model_validate({"text": record["text"]})
    prompt = chat_ids(tokenizer, task.messages(request))
    answer = tokenizer.encode(answer_text(task.name, record["gold"]), add_special_tokens=False)
    end_of_turn = end_of_turn_id(tokenizer)
    if end_of_turn is None:
        raise ConfigError(f"The tokenizer has no {END_OF_TURN} token; slmq fine-tunes models with a ChatML template.")
    answer.append(end_of_turn)
    return Example(prompt + answer, [IGNORE] * len(prompt) + answer)


class Tokens(Protocol):
    @property
    def input_ids(self) -> list[int]: ...


class Batching(Protocol):
    @property
    def batch_size(self) -> int: ...
    @property
    def seed(self) -> int: ...


class Schedule(Protocol):
    @property
    def learning_rate(self) -> float: ...
    @property
    def warmup_steps(self) -> int: ...
    @property
    def steps(self) -> int: ...


TokensT = TypeVar("TokensT", bound=Tokens)


def batches(examples: list[TokensT], config: Batching) -> Iterator[list[TokensT]]:
    """Endless shuffled batches; each pool of 16 batches is grouped by length, so padding stays small."""
    rng = random.Random(config.seed)
    pool_size = config.batch_size * 16
    while True:
        order = examples[:]
        rng.shuffle(order)
        for start in range(0, len(order), pool_size):
            pool = sorted(order[start : start + pool_size], key=lambda e: len(e.input_ids))
            chunks = [pool[i : i + config.batch_size] for i in range(0, len(pool), config.batch_size)]
            rng.shuffle(chunks)
            yield from (chunk for chunk in chunks if len(chunk) == config.batch_size)


def collate(batch: list[Example], pad_id: int, device: str) -> dict[str, torch.Tensor]:
    """Left-padded, as the worker generates: every answer ends at the last position."""
    width = max(len(e.input_ids) for e in batch)
    input_ids = [[pad_id] * (width - len(e.input_ids)) + e.input_ids for e in batch]
    labels = [[IGNORE] * (width - len(e.labels)) + e.labels for e in batch]
    mask = [[0] * (width - len(e.input_ids)) + [1] * len(e.input_ids) for e in batch]
    attention_mask = torch.tensor(mask, device=device)
    return {
        "input_ids": torch.tensor(input_ids, device=device),
        "labels": torch.tensor(labels, device=device),
        "attention_mask": attention_mask,
        "position_ids": (attention_mask.cumsum(-1) - 1).clamp(min=0),
    }


def answer_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy on the answer tokens, with logits computed only where answers are.

    The vocabulary projection of every prompt position would cost memory and time for nothing: the
    answers are the batch's last positions, so only that many logits (plus the one before) are kept.
    """
    labels = batch["labels"]
    keep = int((labels != IGNORE).sum(-1).max()) + 1
    inputs = {name: tensor for name, tensor in batch.items() if name != "labels"}
    logits = model(**inputs, logits_to_keep=keep).logits
    targets = labels[:, -keep + 1 :]
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), ignore_index=IGNORE
    )


def learning_rate(step: int, config: Schedule) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


Meta = dict[str, Any]


def served_base(base_dir: Path, quantization: Quantization, device: str) -> Any:
    """The base model with the weights a worker serves, as fp32 layers that training can run through.

    A quantized base is loaded through bitsandbytes exactly as the worker loads it, and each quantized
    layer becomes a frozen fp32 ``Linear`` whose forward pass is the served layer's (``workers.model.nf4``): the
    adapter learns over the rounded weights it will meet in serving (what QLoRA trains over), and over the
    served kernel's outputs on CPUs where that kernel is bf16. On a GPU the worker keeps the other layers in bf16.
    """
    if quantization == "int8":
        raise ConfigError("Training over int8 weights is not supported; use --quantization nf4 or none.")
    model = AutoModelForCausalLM.from_pretrained(
        base_dir, quantization_config=quantization_config(quantization), dtype=torch.float32,
        device_map={"": device}, use_safetensors=True, trust_remote_code=False,
    )  # fmt: skip
    if quantization == "nf4":
        from workers.model.nf4 import to_served_layers  # bitsandbytes: only when training over nf4

        to_served_layers(model)
    return model


def finetune(
    base_dir: Path,
    records: Iterable[dict[str, Any]],
    output: Path,
    config: FinetuneConfig,
    device: str,
    meta: Meta,
    init_adapter: Path | None = None,
) -> TrainingReport:
    """Train a LoRA adapter for ``config.task_type`` over the model in ``base_dir``; save it in ``output``.

    With ``init_adapter`` training goes on from that adapter's weights (its rank and alpha) instead of a new one.
    """
    from peft import LoraConfig, PeftModel, get_peft_model

    task = TASK_TYPES.get(config.task_type)
    if not isinstance(task, GenerativeTaskType):
        raise ConfigError(f"Task type {config.task_type!r} is not a generative task type; nothing to fine-tune.")
    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(base_dir, trust_remote_code=False)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    report = TrainingReport()
    examples = []
    for record in records:
        example = encode(task, tokenizer, record)
        if len(example.input_ids) > config.max_tokens:
            report.skipped_too_long += 1
        else:
            examples.append(example)
    if len(examples) < config.batch_size:
        raise ConfigError(
            f"Only {len(examples)} training examples fit in {config.max_tokens} tokens; give at least "
            f"{config.batch_size} (more data, or a larger --max-tokens)."
        )
    base = served_base(base_dir, config.quantization, device)
    if init_adapter is not None:
        model = PeftModel.from_pretrained(base, str(init_adapter), is_trainable=True)
    else:
        lora = LoraConfig(
            r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout, target_modules="all-linear",
            task_type="CAUSAL_LM",
        )  # fmt: skip
        model = get_peft_model(base, lora)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.0)
    log.info(
        "Fine-tuning %s over %s weights: %d examples (%d longer than %d tokens skipped), %d steps of %d, "
        "%.2fM trainable parameters", config.task_type, config.quantization, len(examples), report.skipped_too_long,
        config.max_tokens, config.steps, config.batch_size, sum(p.numel() for p in trainable) / 1e6,
    )  # fmt: skip
    started = time.perf_counter()
    stream = batches(examples, config)
    for step in range(config.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        loss = answer_loss(model, collate(next(stream), pad_id, device))
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        report.steps, report.examples_seen = step + 1, (step + 1) * config.batch_size
        report.losses.append(round(loss.item(), 4))
        report.seconds = time.perf_counter() - started
        _progress(report, config)
        if report.steps % config.save_every == 0 or report.steps == config.steps:
            save_adapter(model, output, config, report, meta)
    return report


def _progress(report: TrainingReport, config: FinetuneConfig) -> None:
    recent = report.losses[-10:]
    per_step = report.seconds / report.steps
    eta = per_step * (config.steps - report.steps)
    print(
        f"step {report.steps}/{config.steps}  loss {sum(recent) / len(recent):.4f}  "
        f"{per_step:.1f} s/step  ETA {eta / 60:.1f} min",
        file=sys.stderr,
        flush=True,
    )


def save_adapter(model: Any, output: Path, config: FinetuneConfig, report: TrainingReport, meta: Meta) -> None:
    """The adapter's weights in bf16 safetensors, its PEFT config, and the recipe that made it."""
    from peft import get_peft_model_state_dict

    output.mkdir(parents=True, exist_ok=True)
    weights = get_peft_model_state_dict(model)
    state = {name: tensor.detach().to(torch.bfloat16).cpu() for name, tensor in weights.items()}
    save_file(state, str(output / ADAPTER_WEIGHTS), metadata={"format": "pt"})
    peft_config = model.peft_config["default"]
    peft_config.base_model_name_or_path = meta.get("base_model", {}).get("source")  # not this machine's cache path
    peft_config.save_pretrained(str(output))
    recipe = {
        **meta,
        "config": asdict(config),
        "steps_done": report.steps,
        "examples_seen": report.examples_seen,
        "skipped_too_long": report.skipped_too_long,
        "train_seconds": round(report.seconds, 1),
        "loss_first_10": report.losses[:10],
        "loss_last_10": report.losses[-10:],
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip() + f", torch {torch.__version__}",
    }
    (output / RECIPE).write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")
