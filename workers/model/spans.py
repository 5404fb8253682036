"""Copy decoding: every string value of a structured output is a verbatim span of the request's text.

For task types whose contract says values are copied as written (delivery_note: "a verbatim span,
whitespace collapsed"), this runs on top of the JSON grammar: inside a value string, only tokens that
extend the value to a longer span of the source are allowed, or one that closes it; ``null`` stays
open. A model can still pick the wrong span, but no longer misspell, translate or invent one.
It works on bytes, since byte-level BPE tokens may split a character. The grammar's strings hold no
quote, backslash or control character, so a value's bytes are exactly the source bytes it copies.
"""

import dataclasses
import re
from dataclasses import dataclass

import torch
from transformers import LogitsProcessor

from workers.model.grammar import Constraint, RowConstraint, RowsProcessor

QUOTE = ord('"')
COPY_DRAFT_BYTES = 8  # how far ahead of a value being copied the native engine looks, per token it guesses
LONGEST_COPIED_TOKEN = 32  # bytes; longer tokens are runs of whitespace or code, never a collapsed span
_WHITESPACE = re.compile(r"\s+")


def span_source(text: str) -> bytes:
    """The bytes values are copied from: ``text`` with each run of whitespace collapsed to one space."""
    return _WHITESPACE.sub(" ", text).strip().encode()


class SpanTable:
    """One tokenizer's vocabulary as bytes, indexed for copying; built once per model."""

    def __init__(self, token_bytes: list[bytes]) -> None:
        self.token_bytes = token_bytes
        self.by_bytes: dict[bytes, list[int]] = {}
        quoted = []
        for token, data in enumerate(token_bytes):
            if QUOTE in data:
                quoted.append(token)
            elif 0 < len(data) <= LONGEST_COPIED_TOKEN:
                self.by_bytes.setdefault(data, []).append(token)
        self.quoted = torch.tensor(quoted, dtype=torch.long)  # few (163 of SmolLM2's 49,152): checked one by one
        self.longest = max(map(len, self.by_bytes), default=0)

    def continuations(self, source: bytes, value: bytes) -> set[int]:
        """The quote-free tokens that extend ``value`` to a longer span of ``source``."""
        found: set[int] = set()
        start = source.find(value)
        while start != -1:
            rest = source[start + len(value) : start + len(value) + self.longest]
            for end in range(1, len(rest) + 1):
                found.update(self.by_bytes.get(rest[:end], ()))
            start = source.find(value, start + 1)
        return found

    def greedy_tokens(self, data: bytes) -> list[int]:
        """``data`` cut into the longest vocabulary tokens from its start: a guess at how a model would copy it."""
        tokens: list[int] = []
        while data:
            end = next((end for end in range(min(len(data), self.longest), 0, -1) if data[:end] in self.by_bytes), 0)
            if not end:  # a byte no quote-free token starts with: nothing more to guess
                break
            tokens.append(self.by_bytes[data[:end]][0])
            data = data[end:]
        return tokens


@dataclass(frozen=True)
class JsonPosition:
    """Where one row's output is in its JSON: open containers, and the string being written, if any."""

    containers: bytes = b""  # the open "{" and "[", outermost first
    expect_key: bool = False  # in an object, the next string is a key
    in_key: bool = False
    value: bytes | None = None  # the value string written so far; None outside one
    started: bool = False

    @property
    def done(self) -> bool:
        return self.started and not self.containers and self.value is None

    def after(self, data: bytes, source: bytes | None = None) -> "JsonPosition | None":
        """The position after ``data``; None if a ``source`` is given and a value in it is not a span of it."""
        containers, expect_key, in_key, value = self.containers, self.expect_key, self.in_key, self.value
        for byte in data:
            if in_key:
                in_key = byte != QUOTE
            elif value is not None:
                if byte != QUOTE:
                    value += bytes((byte,))
                elif source is not None and value not in source:
                    return None
                else:
                    value = None
            elif byte in b"{[":
                containers, expect_key = containers + bytes((byte,)), byte == ord("{")
            elif byte in b"}]":
                containers = containers[:-1]
            elif byte in b":,":
                expect_key = byte == ord(",") and containers[-1:] == b"{"
            elif byte == QUOTE:
                in_key, value = (True, None) if containers[-1:] == b"{" and expect_key else (False, b"")
        if source is not None and value is not None and value not in source:
            return None
        started = self.started or bool(containers)
        return dataclasses.replace(
            self, containers=containers, expect_key=expect_key, in_key=in_key, value=value, started=started
        )


class SpanRow:
    """One row's grammar, then its string values held to spans of its source."""

    def __init__(self, grammar: RowConstraint, table: SpanTable, source: bytes) -> None:
        self.grammar = grammar
        self.table = table
        self.source = source
        self.position = JsonPosition()
        self._openings: set[int] | None = None  # the tokens that may begin a value: many, so kept

    @property
    def finished(self) -> bool:
        return self.grammar.finished

    def accept(self, token: int) -> None:
        self.grammar.accept(token)
        position = self.position.after(self.table.token_bytes[token])  # masked before it was chosen: no check
        assert position is not None
        self.position = position

    def draft(self, copied: int) -> list[int]:
        """What the grammar forces next; inside a value, ``copied`` tokens of the source's continuation after the
        value so far."""
        forced = self.grammar.draft(copied)
        value = self.position.value
        if forced or not value or copied <= 0:
            return forced
        start = self.source.find(value) + len(value)
        ahead = self.source[start : start + copied * COPY_DRAFT_BYTES + self.table.longest]
        return self.table.greedy_tokens(ahead)[:copied]

    def mask(self, scores: torch.Tensor) -> None:
        allowed = self.allowed()
        kept = scores[allowed]
        scores.fill_(float("-inf"))
        scores[allowed] = kept

    def allowed(self) -> torch.Tensor:
        """What the grammar allows; inside a value, only the tokens that extend it to a longer span of the source,
        or close it (unless that leaves no token at all: the grammar's choice stands then)."""
        position = self.position
        if position.done:
            return self.grammar.allowed()
        quoted = self.table.quoted[self.grammar.allows(self.table.quoted)].tolist()
        bad_quoted = {t for t in quoted if position.after(self.table.token_bytes[t], self.source) is None}
        if position.value is None:  # outside a string only a token that opens one with text can stray
            allowed = self.grammar.allowed()
            if bad_quoted and len(allowed) > len(bad_quoted):
                return allowed[~(allowed.unsqueeze(1) == torch.tensor(sorted(bad_quoted))).any(1)]
            return allowed
        candidates = torch.tensor(sorted(self._continuations(position.value).union(quoted) - bad_quoted))
        kept = candidates[self.grammar.allows(candidates)] if len(candidates) else candidates
        return kept if len(kept) else self.grammar.allowed()

    def allows(self, tokens: torch.Tensor) -> torch.Tensor:
        return torch.isin(tokens, self.allowed())

    def _continuations(self, value: bytes) -> set[int]:
        if value:
            return self.table.continuations(self.source, value)
        if self._openings is None:
            self._openings = self.table.continuations(self.source, value)
        return self._openings


class SpanCopyConstraint:
    """A JSON constraint whose string values are copied from each row's source text."""

    def __init__(self, grammar: Constraint, table: SpanTable, sources: list[str]) -> None:
        self.grammar = grammar
        self.table = table
        self.sources = [span_source(text) for text in sources]

    def rows(self, rows: list[int]) -> list[RowConstraint]:
        """Fresh state for these rows of ``sources``."""
        grammars = self.grammar.rows(rows)
        return [SpanRow(grammar, self.table, self.sources[row]) for grammar, row in zip(grammars, rows, strict=True)]

    def processor(self, rows: list[int]) -> LogitsProcessor:
        """A logits processor for one ``model.generate`` call over these rows of ``sources``."""
        return RowsProcessor(self.rows(rows))
