"""The native engine: slmq's own greedy decode loop, calling the model's forward itself.

``model.generate`` pads every row to the longest prompt, grows its cache by concatenation each step and
writes one token per row per step. The engine instead keeps its own cache (cache.py: a row per sequence
at its own length), computes a prompt prefix many prompts share once (prefixes.py), and feeds each row
several tokens a step where they are guessed: what the grammar forces, or the note's continuation of a
value being copied. A guess is kept only as far as greedy argmax under the row's mask agrees with it, so
the output is what one-token-at-a-time greedy decoding writes; a step that guessed wrong still writes its
one token. A forward's cost is mostly fixed (every layer's weights read: ~20 ms for one row of SmolLM2 on two
Zen 5 cores) and grows by ~0.5 ms a token fed, so when few rows run they guess further (``SPECULATION``): longer
copies, and past what the grammar forces, what followed the same two tokens in the prompt or in recent outputs
(n-gram lookup). A lone note needs fewer forwards; a full batch is fed what it was before. Sequences leave as soon
as they finish and waiting ones join at the next step (``add``, ``step``).

Each forward packs the tokens its rows are fed into one row of the model's input, so its linear layers see
only real tokens, never a row padded to the widest one; attention alone spreads them out to their cache rows
(attention.py). It calls the model's forward with its own positions, mask, cache and that packing, so
quantized layers, adapters and any transformers causal LM whose attention follows transformers'
AttentionInterface and writes through ``cache.update`` keep working. On a CPU, for a model whose logits are
its output layer alone (``PLAIN_HEADS``), it runs the model's body and applies that layer itself, to the
tokens a row's constraint allows only.
"""

import inspect
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from slmq.constants import SPECULATION
from slmq.errors import ConfigError
from workers.model.engine.attention import ENGINE_ATTENTION, Packing, use_engine_attention
from workers.model.engine.cache import SlotCache
from workers.model.engine.prefixes import PrefixStore
from workers.model.engine.sequence import Sequence
from workers.model.grammar import RowConstraint

DEFAULT_DRAFT = 8  # tokens guessed per row per step at most, beyond its spare ones (slmq.constants.SPECULATION)
COPY_GUESS = 2  # tokens of a copied value's continuation guessed per row: a value may end anywhere (bench/engine.py)
LOOKUP_TAIL = 2  # a row's last tokens, looked up in its prompt and in recent outputs for a guess at what follows
RECENT = 8  # finished outputs kept for that lookup
# Architectures whose logits are their output layer applied to the last hidden state, nothing more (no softcap,
# no scale): the engine may apply that layer itself, to the tokens a row's constraint allows only.
PLAIN_HEADS = frozenset({"llama", "mistral", "qwen2", "qwen3"})


@dataclass
class EngineCounters:
    """What the engine did: forwards run, tokens fed (prompts and guesses), tokens written, guesses kept."""

    forwards: int = 0
    prompt_tokens: int = 0
    prefix_tokens: int = 0  # prompt tokens taken from a stored prefix instead of computed
    written: int = 0
    drafted: int = 0
    kept: int = 0


class NativeEngine:
    """Greedy generation for many sequences at once over one model."""

    def __init__(
        self,
        model: Any,
        stop_ids: list[int],
        device: str,
        slots: int,
        max_draft: int = DEFAULT_DRAFT,
        speculation: int = SPECULATION,
    ) -> None:
        config = model.config
        heads = int(config.num_attention_heads)
        head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // heads)
        dtype = model.get_input_embeddings().weight.dtype
        self.model = model
        self.stop_ids = frozenset(stop_ids)
        self.device = device
        self.max_draft = max_draft
        self.speculation = speculation
        kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
        self.cache = SlotCache(slots, int(config.num_hidden_layers), kv_heads, head_dim, dtype, device)
        self.prefixes = PrefixStore()
        self.active: list[Sequence] = []  # active[i] is in cache row i
        self.waiting: deque[Sequence] = deque()
        self.counters = EngineCounters()
        self.recent = NgramIndex(RECENT)
        base = model.get_base_model() if hasattr(model, "get_base_model") else model  # under a LoRA adapter
        use_engine_attention(base)
        if base.config._attn_implementation != ENGINE_ATTENTION:
            raise ConfigError(
                f"the native engine cannot serve {type(base).__name__}: its attention does not follow transformers'"
                ' AttentionInterface; serve it with engine = "transformers"'
            )
        # transformers 5 renamed the forward's past_key_values to cache
        self._cache_argument = "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"
        head = base.get_output_embeddings()
        # On a GPU the whole head costs little and one copy of its logits a forward beats small products per token
        plain = (
            device == "cpu" and config.model_type in PLAIN_HEADS and type(head) is torch.nn.Linear and head.bias is None
        )
        self._head: torch.nn.Linear | None = head if plain else None  # applied by the engine, sparsely where it can
        self._body = base.get_decoder() if plain else model

    def generate(
        self,
        prompts: list[list[int]],
        max_new_tokens: int,
        constraints: list[RowConstraint] | None = None,
        max_time: float | None = None,
        on_finished: Callable[[int, Sequence], None] | None = None,
        more: Callable[[int], list[Sequence]] | None = None,
    ) -> list[Sequence]:
        """Each prompt's sequence, in order: the tokens written (up to and including its stop token) and
        their log-probabilities under the row's mask. After ``max_time`` seconds every sequence stops where
        it is (as transformers' ``max_time`` does). ``on_finished(index, sequence)`` is called as each prompt's
        sequence finishes in a step, while the others go on (not for one with no budget, nor for those ``max_time``
        stopped).

        ``more(room)``, asked before each step while the cache has ``room`` free rows (and once more when every row
        has finished), returns up to that many sequences that join the call: they are prefilled at the next step
        beside the others' decode, numbered after the prompts in the order they joined, and returned after them.
        """
        rows = constraints if constraints is not None else [None] * len(prompts)
        sequences = [Sequence(prompt, max_new_tokens, row) for prompt, row in zip(prompts, rows, strict=True)]
        indices = {id(sequence): index for index, sequence in enumerate(sequences)}
        deadline = None if max_time is None else time.monotonic() + max_time
        for sequence in sequences:
            self.add(sequence)
        try:
            while True:
                room = self.cache.slots - len(self.active) - len(self.waiting)
                for joined in more(room) if more is not None and room > 0 else []:
                    indices[id(joined)] = len(sequences)
                    sequences.append(joined)
                    self.add(joined)
                if not (self.waiting or self.active):
                    break
                finished = self.step()
                if on_finished is not None:
                    for sequence in finished:
                        on_finished(indices[id(sequence)], sequence)
                if deadline is not None and time.monotonic() >= deadline:
                    break
        finally:
            self.waiting.clear()  # a stopped or failed call leaves nothing behind for the next one
            self.active.clear()
        return sequences

    def add(self, sequence: Sequence) -> None:
        """Queue a sequence; it joins the running ones at the next step."""
        if sequence.max_new_tokens <= 0:
            sequence.finished = True
            return
        self.waiting.append(sequence)

    @torch.inference_mode()
    def step(self) -> list[Sequence]:
        """Prefill the waiting sequences there is room for, then one decode forward; the sequences that finished."""
        admitted: list[Sequence] = []
        while self.waiting and len(self.active) < self.cache.slots:
            admitted.append(self.waiting.popleft())
            self.active.append(admitted[-1])
        finished = self._prefill(admitted) if admitted else []
        if self.active:
            finished += self._decode()
        return finished

    def _prefill(self, sequences: list[Sequence]) -> list[Sequence]:
        first = len(self.active) - len(sequences)
        to_store: list[tuple[int, int]] = []  # (cache row, prefix length) of prompts with a new shared prefix
        for row, sequence in enumerate(sequences, start=first):
            shared, stored = self.prefixes.match(sequence.prompt)
            if stored is not None:
                self.cache.load(row, *stored, shared)
                self.counters.prefix_tokens += shared
            elif candidate := self.prefixes.candidate(sequence.prompt):
                to_store.append((row, candidate))
            sequence.length = shared
        feeds = [sequence.prompt[sequence.length :] for sequence in sequences]
        outputs = self._outputs(sequences, self._forward(first, feeds, [s.length for s in sequences], last_only=True))
        self.counters.prompt_tokens += sum(len(s.prompt) for s in sequences)
        for row, length in to_store:
            if self.prefixes.match(self.active[row].prompt)[0] < length:
                self.prefixes.add(self.active[row].prompt[:length], *self.cache.read(row, length))
        for sequence, output in zip(sequences, outputs, strict=True):
            sequence.length = len(sequence.prompt)
            self._choose(sequence, output, [])
        return self._retire()

    def _decode(self) -> list[Sequence]:
        spare = max(0, self.speculation // len(self.active) - 1)
        drafts = [self._draft(sequence, spare) for sequence in self.active]
        feeds = []
        for sequence, draft in zip(self.active, drafts, strict=True):
            assert sequence.pending is not None
            feeds.append([sequence.pending, *draft])
        outputs = self._outputs(self.active, self._forward(0, feeds, [s.length for s in self.active], last_only=False))
        for sequence, draft, output in zip(self.active, drafts, outputs, strict=True):
            kept = self._choose(sequence, output, draft)
            sequence.length += kept  # the pending token and the guesses that were kept are in the cache now
            self.counters.drafted += len(draft)
            self.counters.kept += kept - 1
        return self._retire()

    def _forward(self, first: int, feeds: list[list[int]], starts: list[int], last_only: bool) -> list[torch.Tensor]:
        """Feed cache row ``first + i`` the tokens ``feeds[i]`` from position ``starts[i]``, packed into one forward
        (attention.py). Per row, of every token fed or of its last: the last hidden states ([positions, hidden])
        where the engine applies the output layer itself (``_head``), else the logits ([positions, vocab], CPU)."""
        lengths = torch.tensor([len(feed) for feed in feeds])
        rows = torch.repeat_interleave(torch.arange(len(feeds)), lengths)
        ends = torch.cumsum(lengths, 0)
        slots = torch.arange(int(ends[-1])) - (ends - lengths)[rows]
        first_positions = torch.tensor(starts)
        positions = first_positions[rows] + slots
        self.cache.prepare(first, rows, positions)
        visible = self.cache.visible(first_positions.unsqueeze(1) + torch.arange(int(lengths.max())))
        inputs = {
            "input_ids": torch.tensor([token for feed in feeds for token in feed], device=self.device).unsqueeze(0),
            "position_ids": positions.unsqueeze(0).to(self.device),
            "attention_mask": visible,  # 4-D: transformers passes it on instead of building a mask of its own
            "use_cache": True,
            self._cache_argument: self.cache,
            "slmq_packing": Packing(rows.to(self.device), slots.to(self.device), visible),
        }
        keep = (ends - 1).to(self.device) if last_only else None
        sizes: list[int] = [1] * len(feeds) if last_only else lengths.tolist()
        self.counters.forwards += 1
        if self._head is not None:
            hidden: torch.Tensor = self._body(**inputs).last_hidden_state[0]
            return list(torch.split(hidden if keep is None else hidden[keep], sizes))
        logits: torch.Tensor = self._body(**inputs, logits_to_keep=0 if keep is None else keep).logits[0].float().cpu()
        return list(torch.split(logits, sizes))

    def _outputs(self, sequences: list[Sequence], outputs: list[torch.Tensor]) -> list[torch.Tensor]:
        """What ``_choose`` reads per row: hidden states where a constraint lets the head be applied to the tokens
        it allows only, logits elsewhere (the unconstrained rows' in one product)."""
        if self._head is None:
            return outputs
        free = [index for index, sequence in enumerate(sequences) if sequence.constraint is None]
        if free:
            logits = self._head(torch.cat([outputs[index] for index in free])).float().cpu()
            for index, row in zip(free, torch.split(logits, [len(outputs[index]) for index in free]), strict=True):
                outputs[index] = row
        return outputs

    def _choose(self, sequence: Sequence, outputs: torch.Tensor, draft: list[int]) -> int:
        """Write greedy tokens from ``outputs`` (one row per input position, see ``_outputs``) while they agree
        with ``draft``.

        Returns how many tokens were written: at least one, at most one more than the guesses kept.
        """
        constraint = sequence.constraint
        for step, output in enumerate(outputs[: len(draft) + 1]):
            token = self._pick(sequence, output)
            sequence.output.append(token)
            sequence.pending = token
            self.counters.written += 1
            if token in self.stop_ids or not sequence.room:
                sequence.finished = True
                return step + 1
            if constraint is not None:
                constraint.accept(token)
            if step == len(draft) or token != draft[step]:
                return step + 1
        raise AssertionError("unreachable: the last input position always returns")

    def _pick(self, sequence: Sequence, output: torch.Tensor) -> int:
        """The greedy token under the row's constraint, its log-probabilities recorded: under the constraint, and
        unmasked where the whole vocabulary's logits were computed."""
        constraint = sequence.constraint
        if constraint is not None and self._head is not None:  # the head applied to the allowed tokens alone
            allowed = constraint.allowed()
            logits = self._head.weight[allowed.to(self.device)].float() @ output.float()
            best = int(logits.argmax())
            sequence.logprobs.append(float(logits[best] - torch.logsumexp(logits, 0)))
            return int(allowed[best])
        raw = torch.logsumexp(output, 0)
        if constraint is not None:
            constraint.mask(output)
        token = int(output.argmax())
        sequence.logprobs.append(float(output[token] - torch.logsumexp(output, 0)))
        sequence.raw_logprobs.append(float(output[token] - raw))
        return token

    def _draft(self, sequence: Sequence, spare: int) -> list[int]:
        """What the row's constraint expects (forced tokens, or ``COPY_GUESS + spare`` tokens of a copy), then up to
        ``spare`` tokens of what followed its last ones in its prompt or in recent outputs."""
        room = min(self.max_draft + spare, sequence.room - 1)
        if room <= 0:
            return []
        if sequence.constraint is None:
            return lookup(sequence.prompt, sequence.output, room) or self.recent.lookup(sequence.output, spare)
        draft = sequence.constraint.draft(COPY_GUESS + spare)[:room]
        guesses = min(spare, room - len(draft))
        if guesses > 0:
            draft += self.recent.lookup(sequence.output + draft, guesses)
        return draft

    def _retire(self) -> list[Sequence]:
        """Drop finished sequences, moving the last active row into each freed one."""
        finished = [sequence for sequence in self.active if sequence.finished]
        for sequence in finished:
            self.recent.add(sequence.output)
            row = self.active.index(sequence)
            last = self.active.pop()
            if last is not sequence:
                self.cache.move(len(self.active), row, last.length)
                self.active[row] = last
        return finished


def lookup(prompt: list[int], output: list[int], limit: int) -> list[int]:
    """What followed the last place in ``prompt`` where its output's last tokens occur (prompt-lookup drafting)."""
    tail = output[-LOOKUP_TAIL:]
    if len(tail) < LOOKUP_TAIL:
        return []
    for start in range(len(prompt) - LOOKUP_TAIL, -1, -1):
        if prompt[start : start + LOOKUP_TAIL] == tail:
            return prompt[start + LOOKUP_TAIL : start + LOOKUP_TAIL + limit]
    return []


class NgramIndex:
    """What followed each pair of tokens in the last ``size`` outputs, the latest occurrence winning."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.outputs: deque[list[int]] = deque(maxlen=size)
        self.following: dict[tuple[int, ...], tuple[int, int]] = {}  # tail -> (number of its output, where it ends)
        self.added = 0  # outputs seen: the number of the next one

    def add(self, output: list[int]) -> None:
        self.outputs.append(output)
        self.added += 1
        if self.added % self.size == 0:  # forget the tails of dropped outputs, else the index grows forever
            self.following = {}
            for number in range(self.added - len(self.outputs), self.added):
                self._index(number)
        else:
            self._index(self.added - 1)

    def lookup(self, output: list[int], limit: int) -> list[int]:
        """What followed ``output``'s last tokens where they last occurred in a kept output."""
        found = self.following.get(tuple(output[-LOOKUP_TAIL:]))
        first = self.added - len(self.outputs)  # the number of the oldest output kept
        if found is None or found[0] < first:
            return []
        number, end = found
        return self.outputs[number - first][end : end + limit]

    def _index(self, number: int) -> None:
        output = self.outputs[number - (self.added - len(self.outputs))]
        for end in range(LOOKUP_TAIL, len(output)):
            self.following[tuple(output[end - LOOKUP_TAIL : end])] = (number, end)
