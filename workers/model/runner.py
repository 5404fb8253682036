"""The model runner: one causal LM on one device, batched generation and batched choice scoring."""

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    BitsAndBytesConfig,
    LogitsProcessor,
    PreTrainedTokenizerBase,
)

from slmq.errors import InvalidPayloadError, ModelLoadError, SlmqError
from slmq.fleet import ModelSpec, Quantization
from workers.model.device import cpu_has_bf16
from workers.model.engine import NativeEngine, Sequence
from workers.model.grammar import Constraint, GrammarCompiler
from workers.model.spans import SpanCopyConstraint, SpanTable
from workers.model.tagger import SpanTagger, load_tagger

Messages = list[dict[str, str]]
END_OF_TURN = "<|im_end|>"  # ChatML's end of a message: the token that ends an answer of the served models
# bitsandbytes' int8 matmul warns on every call on the CPU that it casts fp32 inputs to fp16.
warnings.filterwarnings("ignore", message="MatMul8bitLt: inputs will be cast")


@dataclass(frozen=True)
class Generation:
    """What the model wrote for one prompt; ``truncated`` when it hit ``max_new_tokens`` before its end token.

    ``pieces`` are the bytes of each token written (before its end token) and ``logprobs`` the model's log
    probability of each under the row's constraint: what per-field confidence is computed from. Engines
    agree on the tokens, not on the last digits of their probabilities, so those are not compared.
    """

    text: str
    new_tokens: int
    truncated: bool
    pieces: tuple[bytes, ...] = field(default=(), compare=False)
    logprobs: tuple[float, ...] = field(default=(), compare=False)
    raw_logprobs: tuple[float, ...] = field(default=(), compare=False)  # unmasked: bench/confidence.py compares


OnGeneration = Callable[[int, Generation], None]  # a conversation's index in its call, and what was written for it
# Up to ``room`` conversations that join a running call, and their constraint (None: unconstrained); see generate()
More = Callable[[int], tuple[list[Messages], Constraint | None]]


class GenerationHook(Protocol):
    """What the worker process puts around every ``generate()`` of a runner (its time limit, its meter).

    The one seam between the model side and the process that serves it: hooks are called in the order they
    were added, and nothing else wraps or patches a runner.
    """

    def time_budget(self) -> float | None:
        """Seconds this call may take (its rows stop where they are when it runs out); None for no limit."""
        ...

    def generated(self, generations: "list[Generation | SlmqError]", seconds: float) -> None:
        """Called after each ``generate()`` with its answers and the seconds it took."""
        ...


def quantization_config(quantization: Quantization) -> BitsAndBytesConfig | None:
    if quantization == "nf4":
        return BitsAndBytesConfig(  # type: ignore[no-untyped-call]
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32
        )
    if quantization == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)  # type: ignore[no-untyped-call]
    return None


NAMED_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}  # fleet.toml's dtype, where it names one


def weights_dtype(spec: ModelSpec, device: str) -> torch.dtype:
    """The dtype ``spec``'s weights load in: ``ModelSpec.dtype`` for unquantized weights (for nf4 ones it is the dtype
    they are served dense in, after loading)."""
    if spec.dtype is None or spec.quantization != "none":
        return torch.float32 if device == "cpu" else torch.bfloat16
    if spec.dtype == "auto":
        return torch.bfloat16 if device != "cpu" or cpu_has_bf16() else torch.float32
    return NAMED_DTYPES[spec.dtype]


class ModelRunner:
    """Holds one model and its tokenizer; every call takes a batch and answers each item on its own."""

    def __init__(
        self,
        spec: ModelSpec,
        model: Any,
        tokenizer: PreTrainedTokenizerBase,
        device: str,
        tagger: SpanTagger | None = None,
    ) -> None:
        self.spec = spec
        self.tagger = tagger  # the span tagger that answers delivery_note instead of generation, if the spec has one
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.load_seconds = 0.0
        self.dequantized = False  # nf4 layers replaced by their dense weights (spec.dequantize, on a CPU)
        self.stop_ids = _stop_token_ids(tokenizer, model)
        self._grammars: GrammarCompiler | None = None
        self._spans: SpanTable | None = None
        self.hooks: list[GenerationHook] = []
        self.engine = (
            NativeEngine(model, self.stop_ids, device, spec.max_batch, speculation=spec.speculation)
            if spec.engine == "native"
            else None
        )

    @classmethod
    def load(
        cls,
        spec: ModelSpec,
        model_dir: Path,
        device: str,
        adapter_dir: Path | None = None,
        dense: torch.dtype | None = None,
        tagger_dir: Path | None = None,
    ) -> "ModelRunner":
        """Load safetensors weights from ``model_dir`` onto ``device``, quantized as the spec says, plus its adapter.

        ``dense`` overrides the dtype ``dequantize = true`` serves in (bench/numerics.py compares them); with
        ``tagger_dir`` the model becomes that span tagger's backbone (``workers.model.tagger``)."""
        started = time.perf_counter()
        try:
            tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
            model: Any = AutoModelForCausalLM.from_pretrained(
                model_dir,
                quantization_config=quantization_config(spec.quantization),
                dtype=weights_dtype(spec, device),
                device_map={"": device},
                use_safetensors=True,
                trust_remote_code=False,
            )
        except (OSError, ValueError, RuntimeError, ImportError) as exc:
            raise ModelLoadError(
                f"Cannot load model {spec.name!r} from {model_dir} on {device} with quantization "
                f"{spec.quantization}: {exc}"
            ) from exc
        dtype = None
        if spec.dequantize:  # bitsandbytes is imported only for nf4 weights
            from workers.model.nf4 import dense_dtype, to_dense_layers

            # On a CPU: fp32 where bitsandbytes computes nf4 in fp32, bf16 where its kernel is bf16, unless the fleet
            # names a dtype; on a GPU nf4 stays.
            chosen = NAMED_DTYPES.get(spec.dtype or "")
            dtype = dense or (chosen if chosen is not None and device == "cpu" else dense_dtype(device))
            if dtype is not None:
                to_dense_layers(model)
        if adapter_dir is not None:
            model = with_adapter(model, adapter_dir, merge=spec.quantization == "none" or dtype is not None)
        if dtype is not None:
            model = model.to(dtype)  # after the merge: the adapter is added to the fp32 weights
        model.eval()
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tagger = load_tagger(model, tagger_dir) if tagger_dir is not None else None
        runner = cls(spec, model, tokenizer, device, tagger)
        runner.dequantized = dtype is not None
        runner.load_seconds = time.perf_counter() - started
        return runner

    def warm_up(self) -> None:
        """One short generation (a tagging pass for a tagger's model, which may have no chat template), so the
        first real batch does not pay for lazy initialisation."""
        if self.tagger is not None:
            self.tagger.predict(self.tokenizer, ["Deliver 2 boxes to Acme Ltd, 1 Main St, Leith."])
        else:
            self.generate([[{"role": "user", "content": "Hello"}]], max_new_tokens=4)

    def generate(
        self,
        conversations: list[Messages],
        max_new_tokens: int,
        constraint: Constraint | None = None,
        on_generation: OnGeneration | None = None,
        more: More | None = None,
    ) -> list[Generation | SlmqError]:
        """Greedy generation for every conversation, batched; errors stay in their places.

        With a ``constraint`` every row's output is masked to its JSON schema as it is generated. The spec's
        engine runs the batch: transformers' ``generate()`` over left-padded rows, or the native engine. The
        hooks' shortest time budget stops every row where it is (its output judged as it stands).
        ``on_generation(index, generation)`` is called once for each conversation that was generated: by the
        native engine as soon as its row finishes, while the others go on; else when the batch ends.
        ``more(room)`` is asked by the native engine, while rows are free, for up to ``room`` conversations that
        join the call (the transformers engine never asks): they are numbered after ``conversations`` in the order
        they joined, and their generations (or errors) returned after theirs.
        """
        started = time.perf_counter()
        budgets = [budget for hook in self.hooks if (budget := hook.time_budget()) is not None]
        max_time = min(budgets, default=None)
        prompts = [self._prompt_ids(messages, max_new_tokens) for messages in conversations]
        ready = [(i, ids) for i, ids in enumerate(prompts) if not isinstance(ids, SlmqError)]
        generations: dict[int, Generation] = {}
        if ready and self.engine is not None:
            generations = self._generate_native(prompts, max_new_tokens, constraint, max_time, on_generation, more)
        elif ready:
            generations = self._generate_transformers(ready, max_new_tokens, constraint, max_time)
            if on_generation is not None:
                for index, generation in generations.items():
                    on_generation(index, generation)
        answers = [ids if isinstance(ids, SlmqError) else generations[i] for i, ids in enumerate(prompts)]
        for hook in self.hooks:
            hook.generated(answers, time.perf_counter() - started)
        return answers

    def _generate_native(
        self, prompts: list[list[int] | SlmqError], max_new_tokens: int, constraint: Constraint | None,
        max_time: float | None, on_generation: OnGeneration | None, more: More | None,
    ) -> dict[int, Generation]:  # fmt: skip
        """The engine's generations of the prompts that fit, and of the conversations ``more`` joins to the call
        (each added to ``prompts``: a prompt over the context_limit there as its error)."""
        assert self.engine is not None
        indices = [i for i, ids in enumerate(prompts) if not isinstance(ids, SlmqError)]  # each sequence's prompt
        rows = constraint.rows(indices) if constraint is not None else None
        generations: dict[int, Generation] = {}

        def finished(position: int, sequence: Sequence) -> None:
            index = indices[position]
            generation = self._decode(sequence.output, max_new_tokens, sequence.logprobs, sequence.raw_logprobs)
            generations[index] = generation
            if on_generation is not None:
                on_generation(index, generation)

        def join(room: int) -> list[Sequence]:
            assert more is not None
            conversations, joined_constraint = more(room)
            first = len(prompts)
            prompts.extend(self._prompt_ids(messages, max_new_tokens) for messages in conversations)
            fit = [(i, ids) for i, ids in enumerate(prompts[first:], start=first) if not isinstance(ids, SlmqError)]
            indices.extend(i for i, _ in fit)
            if joined_constraint is None:
                return [Sequence(ids, max_new_tokens) for _, ids in fit]
            joined_rows = joined_constraint.rows([i - first for i, _ in fit])
            return [Sequence(ids, max_new_tokens, row) for (_, ids), row in zip(fit, joined_rows, strict=True)]

        ready = [ids for ids in prompts if not isinstance(ids, SlmqError)]
        outputs = self.engine.generate(ready, max_new_tokens, rows, max_time, finished, join if more else None)
        for position, sequence in enumerate(outputs):  # stopped by max_time, or given no budget
            if indices[position] not in generations:
                finished(position, sequence)
        return generations

    def _generate_transformers(
        self, ready: list[tuple[int, list[int]]], max_new_tokens: int, constraint: Constraint | None,
        max_time: float | None,
    ) -> dict[int, Generation]:  # fmt: skip
        batch = self._pad([ids for _, ids in ready])
        # Prompts that did not fit are not in the batch: the constraint is told which rows are.
        processors: list[Any] = [constraint.processor([i for i, _ in ready])] if constraint is not None else []
        raw, scores = TokenLogprobs(), TokenLogprobs()  # what the model wants, and that under the constraint
        with torch.inference_mode():
            output = self.model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                max_time=max_time,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.stop_ids,
                logits_processor=[raw, *processors, scores],
            )
        new_tokens = output[:, batch["input_ids"].shape[1] :]
        logprobs, raw_logprobs = scores.finish(new_tokens), raw.finish(new_tokens)
        return {
            index: self._decode(new_tokens[row].tolist(), max_new_tokens, logprobs[row], raw_logprobs[row])
            for row, (index, _) in enumerate(ready)
        }

    def json_constraint(self, schema: dict[str, Any], copy_from: list[str] | None = None) -> Constraint:
        """The constraint for a JSON schema on this model's tokenizer, compiled once and cached.

        With ``copy_from`` (one text per row of the generate call) every string value must also be a
        verbatim span of its row's text (workers/model/spans.py).
        """
        grammar = self._compiler().json(schema)
        if copy_from is None:
            return grammar
        if self._spans is None:
            self._spans = SpanTable(self._compiler().vocab)
        return SpanCopyConstraint(grammar, self._spans, copy_from)

    def budget(self, conversations: list[Messages], wanted: int) -> int:
        """``wanted`` new tokens, or fewer so the longest prompt plus its answer fits the context_limit."""
        longest = max(len(chat_ids(self.tokenizer, messages)) for messages in conversations)
        return max(0, min(wanted, self.spec.context_limit - longest))

    def choose(self, conversations: list[Messages], choices: tuple[str, ...]) -> list[dict[str, float] | SlmqError]:
        """For each conversation, the probability of each choice as the whole answer (normalised over choices)."""
        choice_ids = [self.tokenizer.encode(choice, add_special_tokens=False) for choice in choices]
        prompts = [self._prompt_ids(messages, max(map(len, choice_ids))) for messages in conversations]
        outcomes: list[dict[str, float] | SlmqError] = []
        ready = [ids for ids in prompts if not isinstance(ids, SlmqError)]
        scores = iter(self._choice_log_likelihoods(ready, choice_ids).tolist() if ready else [])
        for ids in prompts:
            if isinstance(ids, SlmqError):
                outcomes.append(ids)
                continue
            probabilities = torch.softmax(torch.tensor(next(scores)), dim=0).tolist()
            outcomes.append(dict(zip(choices, probabilities, strict=True)))
        return outcomes

    def _choice_log_likelihoods(self, prompts: list[list[int]], choice_ids: list[list[int]]) -> torch.Tensor:
        sequences = [prompt + choice for prompt in prompts for choice in choice_ids]
        batch = self._pad(sequences)
        # Left padding shifts positions; give each row its own so a batch scores as its rows would alone.
        positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        with torch.inference_mode():
            logits = self.model(**batch, position_ids=positions).logits.float()
        log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
        targets = batch["input_ids"][:, 1:]
        token_scores = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        totals = torch.stack(
            [token_scores[row, -len(choice_ids[row % len(choice_ids)]) :].sum() for row in range(len(sequences))]
        )
        return totals.view(len(prompts), len(choice_ids))

    def _prompt_ids(self, messages: Messages, max_new_tokens: int) -> list[int] | SlmqError:
        ids = chat_ids(self.tokenizer, messages)
        if len(ids) + max_new_tokens > self.spec.context_limit:
            return InvalidPayloadError(
                f"The prompt is {len(ids)} tokens and the answer may take {max_new_tokens}, over model "
                f"{self.spec.name!r}'s context_limit of {self.spec.context_limit}; send a shorter text."
            )
        return ids

    def _pad(self, sequences: list[list[int]]) -> dict[str, torch.Tensor]:
        width = max(map(len, sequences))
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(s)) + s for s in sequences], dtype=torch.long)
        mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in sequences], dtype=torch.long)
        return {"input_ids": input_ids.to(self.device), "attention_mask": mask.to(self.device)}

    def _decode(
        self, ids: list[int], max_new_tokens: int, logprobs: list[float], raw_logprobs: list[float]
    ) -> Generation:
        ends = [i for i, token in enumerate(ids) if token in self.stop_ids]
        kept = ids[: ends[0]] if ends else ids
        text = str(self.tokenizer.decode(kept, skip_special_tokens=True))
        vocab = self._compiler().vocab
        return Generation(
            text=text,
            new_tokens=len(kept),
            truncated=not ends and len(ids) >= max_new_tokens,
            pieces=tuple(vocab[token] for token in kept),
            logprobs=tuple(logprobs[: len(kept)]),
            raw_logprobs=tuple(raw_logprobs[: len(kept)]),
        )

    def _compiler(self) -> GrammarCompiler:
        """The tokenizer's grammar compiler (and its vocabulary as bytes), made on first use."""
        if self._grammars is None:
            vocab_size = int(self.model.config.vocab_size)  # the logits' width, padding rows included
            self._grammars = GrammarCompiler(self.tokenizer, vocab_size, self.stop_ids)
        return self._grammars


class TokenLogprobs(LogitsProcessor):
    """Records, for ``model.generate``, each row's log-probability of the token it chose at every step.

    Placed after the constraint's processor it sees the masked scores. A step's choice is known only at the
    next call (or, for the last step, from the output), so it keeps the previous step's log-softmax alone.
    """

    def __init__(self) -> None:
        self.previous: torch.Tensor | None = None
        self.rows: list[list[float]] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        self._take(input_ids[:, -1])
        self.previous = torch.log_softmax(scores.float(), dim=-1)
        return scores

    def finish(self, new_tokens: torch.Tensor) -> list[list[float]]:
        """Each row's log-probabilities of ``new_tokens`` (the tokens generate() wrote after the prompts)."""
        if new_tokens.shape[1]:
            self._take(new_tokens[:, -1])
        return self.rows or [[] for _ in range(new_tokens.shape[0])]

    def _take(self, chosen: torch.Tensor) -> None:
        if self.previous is None:
            return
        values = self.previous.gather(1, chosen.view(-1, 1).to(self.previous.device)).squeeze(1).tolist()
        if not self.rows:
            self.rows = [[] for _ in values]
        for row, value in zip(self.rows, values, strict=True):
            row.append(value)


def with_adapter(model: Any, adapter_dir: Path, merge: bool) -> Any:
    """``model`` with the LoRA adapter in ``adapter_dir`` (safetensors only); merged into unquantized weights."""
    from peft import PeftModel

    if not (adapter_dir / "adapter_model.safetensors").is_file():
        raise ModelLoadError(
            f"No adapter_model.safetensors in {adapter_dir}; point the model's adapter at a directory written by "
            "`slmq finetune` (pickled adapter weights are refused)."
        )
    try:
        adapted = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelLoadError(f"Cannot load the adapter in {adapter_dir} onto its base model: {exc}") from exc
    # Merged, an adapter costs nothing at inference; quantized weights keep it beside them instead.
    return adapted.merge_and_unload() if merge else adapted


def chat_ids(tokenizer: PreTrainedTokenizerBase, messages: Messages) -> list[int]:
    """The prompt's token ids: ``messages`` through the model's chat template, up to the answer's first token."""
    encoded: Any = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    return [int(token) for token in (encoded["input_ids"] if hasattr(encoded, "keys") else encoded)]


def end_of_turn_id(tokenizer: PreTrainedTokenizerBase) -> int | None:
    """The token that closes an answer in the ChatML template the served models use, if the tokenizer has it."""
    found: Any = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    return found if isinstance(found, int) and found != tokenizer.unk_token_id else None


def _stop_token_ids(tokenizer: PreTrainedTokenizerBase, model: Any) -> list[int]:
    ids = {tokenizer.eos_token_id, end_of_turn_id(tokenizer)}
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids.update(configured if isinstance(configured, list) else [configured])
    return sorted(i for i in ids if isinstance(i, int) and i != tokenizer.unk_token_id)
