"""Constrained decoding: a JSON schema compiled once per tokenizer into a grammar that masks the logits.

The grammar is xgrammar's (measured against lm-format-enforcer and outlines in bench/constrained.py).
Outputs are compact single-line JSON (``,`` and ``:`` separators, no free whitespace: what the fine-tuned
adapters are trained to write, see slmq/training/trainer.py), so a model cannot spend its budget on blank
lines, and every string and list is bounded so that even a random model ends its record within the
budget (strings hold no quote, backslash or control character).
Each row has its own matcher (``GrammarRow``), fed only the tokens generated after its prompt; rows that
have finished are left alone. ``model.generate`` drives rows through a logits processor, the native engine
(workers/model/engine/) calls them itself, several tokens a step.
"""

import copy
import json
from typing import Any, Protocol

import numpy as np
import torch
import xgrammar as xgr
from pydantic import BaseModel
from transformers import LogitsProcessor, PreTrainedTokenizerBase

# Generation bounds added to an output schema where it sets none: the longest string and list a model may write.
MAX_STRING_CHARS = 128  # xgrammar 0.2.8 fails to compile a string pattern bounded above 128
MAX_LIST_ITEMS = 40
SEPARATORS = (",", ":")  # json.dumps' compact form: two tokens fewer per field than ", " and ": "
# One character of a generated JSON string: no quote, backslash or control character (so no escapes either).
_STRING_CHAR = r'[^"\\\x00-\x1f]'


def generation_schema(
    model: type[BaseModel], max_string: int = MAX_STRING_CHARS, max_items: int = MAX_LIST_ITEMS
) -> dict[str, Any]:
    """``model``'s JSON schema with every unbounded string and array bounded, for generation only."""
    schema = copy.deepcopy(model.model_json_schema())
    _bound(schema, max_string, max_items)
    return schema


def _bound(node: Any, max_string: int, max_items: int) -> None:
    if isinstance(node, list):
        for child in node:
            _bound(child, max_string, max_items)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not {"enum", "const", "pattern", "format"} & node.keys():
        # A pattern rather than maxLength: xgrammar's bounded strings would let raw control characters through.
        node["pattern"] = f"^{_STRING_CHAR}{{{node.get('minLength', 0)},{node.get('maxLength', max_string)}}}$"
    if node.get("type") == "array":
        node.setdefault("maxItems", max_items)
    for value in node.values():
        _bound(value, max_string, max_items)


class RowConstraint(Protocol):
    """One row's constraint state, advanced a token at a time: what either decode loop asks of a constraint."""

    @property
    def finished(self) -> bool:
        """The row's output is complete (its grammar accepted a stop token); it masks and takes nothing more."""
        ...

    def mask(self, scores: torch.Tensor) -> None:
        """Set the logits of this row's disallowed next tokens (a 1-D tensor on the CPU) to -inf, in place."""
        ...

    def allowed(self) -> torch.Tensor:
        """The ids of the tokens ``mask`` would leave, ascending (1-D int64 on the CPU): the same choice, for a
        caller that scores those tokens only (the native engine's output layer on a CPU)."""
        ...

    def allows(self, tokens: torch.Tensor) -> torch.Tensor:
        """Which of ``tokens`` (1-D int64 on the CPU) ``allowed`` would name, as booleans: cheaper for a few."""
        ...

    def accept(self, token: int) -> None:
        """Advance past ``token``, which the last mask or ``allowed`` allowed."""
        ...

    def draft(self, copied: int) -> list[int]:
        """Tokens this row is expected to write next: all its grammar forces, or, inside a value copied from a
        source, up to ``copied`` tokens of the source's continuation; may be empty or wrong."""
        ...


class Constraint(Protocol):
    """A constraint that gives every row of a call its own state, for ``model.generate`` or the native engine."""

    def rows(self, rows: list[int]) -> list[RowConstraint]:
        """Fresh state for these rows (indices into the conversations the constraint was made for)."""
        ...

    def processor(self, rows: list[int]) -> LogitsProcessor:
        """A logits processor for one ``model.generate`` call over these rows of its conversations."""
        ...


class RowsProcessor(LogitsProcessor):
    """``model.generate``'s view of row constraints: each call feeds every row its last token, then masks it."""

    def __init__(self, rows: list[RowConstraint]) -> None:
        self.rows = rows
        self.started = False

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.started:  # the first call sees the (left-padded) prompts: nothing to accept
            for row, token in zip(self.rows, input_ids[:, -1].tolist(), strict=True):
                if not row.finished:  # a finished row is fed padding by generate()
                    row.accept(token)
        self.started = True
        masked = scores if scores.device.type == "cpu" else scores.cpu()
        for index, row in enumerate(self.rows):
            if not row.finished:
                row.mask(masked[index])
        if masked is not scores:
            scores.copy_(masked.to(scores.device))
        return scores


class GrammarRow:
    """One row's grammar matcher."""

    def __init__(self, compiled: xgr.CompiledGrammar) -> None:
        self.matcher = xgr.GrammarMatcher(compiled)
        self.vocab_size = compiled.tokenizer_info.vocab_size
        self.bitmask = xgr.allocate_token_bitmask(1, self.vocab_size)
        self._filled = False  # the bitmask holds this position's tokens (a copying row reads it up to three times)

    @property
    def finished(self) -> bool:
        return bool(self.matcher.is_terminated())

    def mask(self, scores: torch.Tensor) -> None:
        xgr.apply_token_bitmask_inplace(scores.view(1, -1), self._words().view(1, -1), vocab_size=self.vocab_size)

    def allowed(self) -> torch.Tensor:
        return bitmask_ids(self._words(), self.vocab_size)

    def allows(self, tokens: torch.Tensor) -> torch.Tensor:
        return ((self._words()[tokens >> 5] >> (tokens & 31)) & 1).bool()

    def accept(self, token: int) -> None:
        self._filled = False
        if not self.matcher.accept_token(token):
            raise RuntimeError(f"token {token} was generated against the grammar")

    def draft(self, copied: int) -> list[int]:
        return list(self.matcher.find_jump_forward_tokens())

    def _words(self) -> torch.Tensor:
        """The bitmask of the tokens allowed at this position, filled once per position."""
        if not self._filled:
            self.matcher.fill_next_token_bitmask(self.bitmask, 0)
            self._filled = True
        return self.bitmask[0]


def bitmask_ids(words: torch.Tensor, size: int) -> torch.Tensor:
    """The ids whose bits are set in an xgrammar bitmask row (int32 words of 32 ids, lowest bit first, in a
    little-endian machine's memory), ascending, below ``size``."""
    bits = np.unpackbits(words.numpy().view(np.uint8), bitorder="little")[:size]
    return torch.from_numpy(np.flatnonzero(bits))


class JsonConstraint:
    """One JSON schema compiled for one tokenizer; each call gets fresh matchers from it."""

    def __init__(self, compiled: xgr.CompiledGrammar, schema: dict[str, Any]) -> None:
        self.compiled = compiled
        self.schema = schema

    def rows(self, rows: list[int]) -> list[RowConstraint]:
        return [GrammarRow(self.compiled) for _ in rows]

    def processor(self, rows: list[int]) -> LogitsProcessor:
        return RowsProcessor(self.rows(rows))


class GrammarCompiler:
    """Compiles JSON schemas for one tokenizer and vocabulary size, each schema once."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, vocab_size: int, stop_ids: list[int]) -> None:
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=stop_ids)
        self.info = info
        # Each token's bytes. Read once: xgrammar rebuilds the list on every read of decoded_vocab (~0.25 s
        # for SmolLM2's 49k tokens), and the runner needs it for every answer's pieces.
        self.vocab = [bytes(token) for token in info.decoded_vocab]
        self._compiler = xgr.GrammarCompiler(info, max_threads=1)
        self._cache: dict[str, JsonConstraint] = {}

    def json(self, schema: dict[str, Any]) -> JsonConstraint:
        """The constraint for ``schema``, compiled on first use and cached."""
        key = json.dumps(schema)  # key order kept: properties are generated in the schema's order
        if key not in self._cache:
            compiled = self._compiler.compile_json_schema(
                key, any_whitespace=False, separators=SEPARATORS, strict_mode=True
            )
            self._cache[key] = JsonConstraint(compiled, schema)
        return self._cache[key]
