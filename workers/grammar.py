"""Constrained decoding: a JSON schema compiled once per tokenizer into a grammar that masks the logits.

The grammar is xgrammar's (measured against lm-format-enforcer and outlines in bench/constrained.py).
Outputs are compact single-line JSON (``,`` and ``:`` separators, no free whitespace: what the fine-tuned
adapters are trained to write, see workers/finetune.py), so a model cannot spend its budget on blank
lines, and every string and list is bounded so that even a random model ends its record within the
budget (strings hold no quote, backslash or control character).
Each row of a left-padded batch has its own matcher, fed only the tokens generated after the prompt;
rows that have finished are left alone.
"""

import copy
import json
from typing import Any, Protocol

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


class Constraint(Protocol):
    """Anything that gives ``model.generate`` a fresh logits processor that constrains every row."""

    def processor(self, rows: list[int]) -> LogitsProcessor:
        """A logits processor for one ``model.generate`` call over these rows (indices) of its conversations."""
        ...


class JsonConstraint:
    """One JSON schema compiled for one tokenizer; each generate call gets a fresh processor from it."""

    def __init__(self, compiled: xgr.CompiledGrammar, schema: dict[str, Any]) -> None:
        self.compiled = compiled
        self.schema = schema

    def processor(self, rows: list[int]) -> LogitsProcessor:
        """A logits processor for one ``model.generate`` call (it keeps per-row state)."""
        return GrammarLogitsProcessor(self.compiled)


class GrammarCompiler:
    """Compiles JSON schemas for one tokenizer and vocabulary size, each schema once."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, vocab_size: int, stop_ids: list[int]) -> None:
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=stop_ids)
        self.info = info
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


class GrammarLogitsProcessor(LogitsProcessor):
    """Masks each row's logits to the tokens its grammar allows next; the first call sees only prompts."""

    def __init__(self, compiled: xgr.CompiledGrammar) -> None:
        self.compiled = compiled
        self.vocab_size = compiled.tokenizer_info.vocab_size
        self.matchers: list[xgr.GrammarMatcher] = []
        self.bitmask: torch.Tensor | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        rows = input_ids.shape[0]
        if self.bitmask is None:  # first step: the input is the (left-padded) prompts, nothing to accept
            self.matchers = [xgr.GrammarMatcher(self.compiled) for _ in range(rows)]
            self.bitmask = xgr.allocate_token_bitmask(rows, self.vocab_size)
        else:
            for row, token in enumerate(input_ids[:, -1].tolist()):
                matcher = self.matchers[row]
                # A finished row is fed padding by generate(); its matcher has ended and takes nothing more.
                if not matcher.is_terminated() and not matcher.accept_token(token):
                    raise RuntimeError(f"token {token} was generated against the grammar in row {row}")
        active = [row for row, matcher in enumerate(self.matchers) if not matcher.is_terminated()]
        for row in active:
            self.matchers[row].fill_next_token_bitmask(self.bitmask, row)
        if active:
            masked = scores if scores.device.type == "cpu" else scores.cpu()
            xgr.apply_token_bitmask_inplace(masked, self.bitmask, vocab_size=self.vocab_size, indices=active)
            if masked is not scores:
                scores.copy_(masked.to(scores.device))
        return scores
