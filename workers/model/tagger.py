"""The span tagger a worker serves delivery_note with: one forward pass per note (CPU) or batch (GPU), no decoding.

The note is written twice in one sequence ("echo"): the tags are read off the second copy, whose every token
has seen the whole note through the first, so a causal backbone tags a token knowing what comes after it
(the "Deliver to:" below a letterhead). A backbone whose attention can be made bidirectional (Gemma 3's
``use_bidirectional_attention``) reads the note once instead, every token seeing the whole note in every layer,
at half the tokens; a tagger is trained one way or the other (its recipe's ``bidirectional``).

Per token and per kind (``tagging.KINDS``) a linear head says outside, begins or inside a span; kinds may overlap
(the instructions may hold the contact's number). The spans become the record and its per-field confidence in
``workers.model.tagging``.

A tagger directory (``slmq.training.tagger train``) holds a LoRA adapter over the model it was trained on
(``lora.safetensors``), the head (``head.safetensors``) and its recipe (``tagger.json``). fleet.toml's
``tagger = "<dir>"`` merges the adapter into the model the worker holds, so that model tags and no longer
generates.
"""

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PeftModel, get_peft_model, set_peft_model_state_dict
from safetensors.torch import load_file
from transformers import PreTrainedTokenizerBase

from slmq.errors import ModelLoadError
from workers.model.tagging import KINDS, Scored, Span, record_from_spans, snap

OUTSIDE, BEGIN, INSIDE = 0, 1, 2
HEAD = "head.safetensors"
LORA = "lora.safetensors"
CONFIG = "tagger.json"
# A span is a run of tokens each at least EXTEND likely to be in one, with one token at least IN_SPAN likely: the
# run grows from its surest token into the doubtful ones beside it ("Sanna" of "Sanna Johansson"). Of IN_SPAN
# 0.3-0.9 and EXTEND 0.05-0.3 (and JOINED below), 0.8 and 0.15 scored best for the SmolLM2 tagger on 300 generated
# held-out notes (seed 5; micro-F1 0.878 with the single threshold 0.3, 0.913 with these); docs/evaluation.md.
# The defaults of a tagger whose recipe has no "thresholds" of its own (``slmq.training.tagger tune --save``).
IN_SPAN = 0.8
EXTEND = 0.15
# Kinds whose spans are joined when only spaces lie between them: one value the head split at a token it took
# for a new span's first ("07095" "466 808"; "THE" "21ST").
JOINED = frozenset({"contact_name", "contact_phone", "delivery_date", "instructions"})
# Kinds whose span does not grow across digits and letters when snapped to words ("12m" is 12 of m).
MEASURES = frozenset({"item.quantity", "item.unit"})
PREFIX, SEPARATOR = "Delivery note:\n", "\n\nThe same note again:\n"

Tagged = tuple[dict[str, Any], dict[str, Any]]  # a record as plain data, and its confidence per field


@dataclass(frozen=True)
class Thresholds:
    """How token probabilities become spans (``spans_of``): chosen per tagger on generated held-out notes."""

    in_span: float = IN_SPAN
    extend: float = EXTEND
    joined: bool = True  # the JOINED kinds' runs with only spaces between them are one value

    @classmethod
    def of(cls, recipe: dict[str, Any]) -> "Thresholds":
        return cls(**recipe.get("thresholds", {}))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    first: int  # where the second copy of the note begins
    offsets: list[tuple[int, int]]  # each tagged token's characters in the note (the second copy's, in an echo)


def encode(tokenizer: PreTrainedTokenizerBase, text: str, echo: bool = True) -> Encoded:
    """The note twice (``echo``) or once after the tokenizer's BOS, and where each token of its copy that is
    tagged stands in it."""
    note = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(note["input_ids"]), [tuple(o) for o in note["offset_mapping"]]
    head = tokenizer.encode(PREFIX, add_special_tokens=False)
    if not echo:
        head = ([tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []) + head
        return Encoded(head + ids, len(head), offsets)
    middle = tokenizer.encode(SEPARATOR, add_special_tokens=False)
    return Encoded(head + ids + middle + ids, len(head) + len(ids) + len(middle), offsets)


def attend_both_ways(model: Any) -> None:
    """Make ``model``'s attention bidirectional (in place), or raise ModelLoadError for a model that cannot."""
    if not hasattr(model.config, "use_bidirectional_attention"):
        raise ModelLoadError(
            f"A {model.config.model_type} model cannot attend both ways; train its tagger with bidirectional off "
            "(the note written twice), or over a model that can (Gemma 3)."
        )
    model.config.use_bidirectional_attention = True
    for module in model.modules():
        if hasattr(module, "is_causal"):  # read by the attention kernels where no mask is passed
            module.is_causal = False


def lora_config(rank: int) -> LoraConfig:
    return LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules="all-linear")


def pad(sequences: Sequence[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and their attention mask (causal: a row's tokens never see its padding)."""
    width = max(map(len, sequences))
    ids = torch.full((len(sequences), width), pad_id)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = torch.tensor(sequence)
        mask[row, : len(sequence)] = 1
    return ids, mask


class SpanTagger(torch.nn.Module):
    """A causal LM's last hidden states (its inner transformer; no lm_head), then a linear head of 3 classes
    per kind. ``bidirectional`` makes the LM's attention so (``attend_both_ways``) and reads each note once."""

    def __init__(self, model: Any, bidirectional: bool = False, thresholds: Thresholds = Thresholds()) -> None:
        super().__init__()
        if bidirectional:
            attend_both_ways(model)
        self.model = model
        self.echo = not bidirectional
        self.thresholds = thresholds
        self.head = torch.nn.Linear(model.config.hidden_size, len(KINDS) * 3)

    def encode(self, tokenizer: PreTrainedTokenizerBase, text: str) -> Encoded:
        """``text`` as this tagger reads it."""
        return encode(tokenizer, text, self.echo)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits: torch.Tensor = self.head(hidden.float())
        return logits.view(*hidden.shape[:2], len(KINDS), 3)

    @torch.inference_mode()
    def probabilities(self, encoded: Encoded) -> torch.Tensor:
        """One note's P(outside, begins, inside) per tagged token and kind, in fp32 on the CPU."""
        ids = torch.tensor([encoded.input_ids], device=self.head.weight.device)
        probs: torch.Tensor = self(ids, torch.ones_like(ids)).softmax(-1)[0]
        return probs[encoded.first : encoded.first + len(encoded.offsets)].float().cpu()

    @torch.inference_mode()
    def predict(self, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> list[Tagged]:
        """Each note's record and confidence, by ``tag``."""
        return self.tag(texts, [self.encode(tokenizer, text) for text in texts], tokenizer.pad_token_id or 0)

    @torch.inference_mode()
    def tag(
        self, texts: Sequence[str], encoded: Sequence[Encoded], pad_id: int, per_forward: int | None = None
    ) -> list[Tagged]:
        """``predict`` for notes already encoded (``self.encode``), ``per_forward`` notes to a forward pass (padded to
        the longest). By default one on a CPU and all on a GPU. On a CPU a note alone computes no padding, and
        its attention stays in cache: 48 real-v1 notes took 89-99 s one by one against 190-223 s in batches of
        16 (``bench/tagger_forward.py``)."""
        device = self.head.weight.device
        size = per_forward or (1 if device.type == "cpu" else max(1, len(texts)))
        tagged = []
        for start in range(0, len(texts), size):
            rows = encoded[start : start + size]
            ids, mask = pad([e.input_ids for e in rows], pad_id)
            probs = self(ids.to(device), mask.to(device)).softmax(-1).cpu()
            for row, (text, enc) in enumerate(zip(texts[start : start + size], rows, strict=True)):
                tokens = probs[row, enc.first : enc.first + len(enc.offsets)]
                found, absent = spans_of(text, enc, tokens, self.thresholds)
                tagged.append(record_from_spans(text, found, absent))
        return tagged


def backbone_of(model: Any) -> dict[str, Any]:
    """What a tagger's recipe records of the model it was trained over, and a worker checks before loading it."""
    config = model.config
    return {key: getattr(config, key) for key in ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")}


def load_tagger(model: Any, directory: Path) -> SpanTagger:
    """The tagger in ``directory`` over ``model``, its adapter merged into ``model``'s weights (in place)."""
    if isinstance(model, PeftModel):
        raise ModelLoadError(
            f"The span tagger in {directory} needs its model's weights dense, its adapter merged: set quantization "
            "= 'none', or dequantize = true (on a CPU)."
        )
    try:
        recipe = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
        lora, head = load_file(str(directory / LORA)), load_file(str(directory / HEAD))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"Cannot load the span tagger in {directory}: {exc}; point the model's tagger at the -o directory of "
            "`python -m slmq.training.tagger train`."
        ) from exc
    trained_over = recipe.get("backbone")
    if trained_over is not None and trained_over != backbone_of(model):
        raise ModelLoadError(
            f"The span tagger in {directory} was trained over {trained_over}, not over this model "
            f"({backbone_of(model)}); give the model the source the tagger was trained over, or another tagger."
        )
    adapted = get_peft_model(model, lora_config(int(recipe["config"]["rank"])))
    set_peft_model_state_dict(adapted, lora)
    bidirectional = bool(recipe["config"].get("bidirectional", False))
    tagger = SpanTagger(adapted.merge_and_unload(), bidirectional, Thresholds.of(recipe))
    tagger.head.load_state_dict(head)
    return tagger.to(next(model.parameters()).device).eval()


def spans_of(
    text: str, encoded: Encoded, probs: torch.Tensor, thresholds: Thresholds = Thresholds()
) -> tuple[dict[str, list[Scored]], dict[str, float]]:
    """The spans per kind: runs of tokens whose P(in a span) is at least ``thresholds.extend`` and, for one of
    them, ``thresholds.in_span``; a new run wherever a token is likelier to begin a span than to go on with one, and
    (``thresholds.joined``) the runs of a JOINED kind with only spaces between them made one. Each is scored by its
    tokens' mean P(in a span). And per kind the probability that it is absent: one minus its likeliest token's P(in
    a span) (one minus the highest P(begins) ranked right and wrong fields worse: field AUROC 0.837 against 0.862
    on the 300 notes of ``tune``)."""
    found: dict[str, list[Scored]] = {}
    absent: dict[str, float] = {}
    in_span, extend = thresholds.in_span, thresholds.extend
    inside = 1 - probs[..., OUTSIDE]
    # A run of tokens in a span splits in two only where a token is more likely than not to begin one.
    begins = (probs[..., BEGIN] > probs[..., INSIDE]) & (probs[..., BEGIN] >= 0.5)
    for column, kind in enumerate(KINDS):
        p_in = inside[:, column].tolist()
        runs = [run for run in _runs(p_in, begins[:, column].tolist(), extend) if max(p_in[i] for i in run) >= in_span]
        measure = kind in MEASURES
        spans = [
            (snap(text, Span(encoded.offsets[run[0]][0], encoded.offsets[run[-1]][1]), measure), run) for run in runs
        ]
        if thresholds.joined and kind in JOINED:
            spans = _joined(text, spans)
        found[kind] = [Scored(span, sum(p_in[i] for i in run) / len(run)) for span, run in spans]
        absent[kind] = 1 - max(p_in, default=0.0)
    return found, absent


def _runs(p_in: list[float], begins: list[bool], extend: float) -> list[list[int]]:
    """Runs of consecutive token indices whose ``p_in`` is at least ``extend``, split where ``begins``."""
    runs: list[list[int]] = []
    for index, p in enumerate(p_in):
        if p < extend:
            continue
        if runs and runs[-1][-1] == index - 1 and not begins[index]:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _joined(text: str, spans: list[tuple[Span, list[int]]]) -> list[tuple[Span, list[int]]]:
    """``spans`` (in the note's order) with each one that only spaces part from the one before merged into it."""
    joined: list[tuple[Span, list[int]]] = []
    for span, run in spans:
        if joined and not text[joined[-1][0].end : span.start].strip(" "):
            previous, tokens = joined[-1]
            joined[-1] = (Span(previous.start, span.end), tokens + run)
        else:
            joined.append((span, run))
    return joined
